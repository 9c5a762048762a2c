// Every command in the README, run as a new user would, in the README's order, against a local
// cloud: a queen in workerd with the hive `npm start` runs (`local`, serving rbee-tiny). Commands
// that need a Cloudflare account run their local stand-in, which the README names in a marker
// above the block (test/node/readme-blocks.ts); `npm pack` and `npm install -g` run for real but
// install without the registry (test/support/npm-install-global-offline.sh), and the hive the
// guide connects runs from that installed tarball. A command that cannot run here is listed in
// NOT_RUN with the reason; any other new command runs, so one that fails fails this test.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-cloud/queen.js";
import { checkMarkers, type ReadmeBlock, readmeBlocks, shellCommands, substitute } from "./readme-blocks.js";
import { type LocalCloud, processesMentioning, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

/** Commands this test cannot run, each with the reason and where it is tested instead. */
const NOT_RUN: Record<string, string> = {
  "npm install && npm start": "npm install fetches from the registry (.ci/run's npm ci does it); npm start is test/node/npm-start.test.ts's",
  "npm test": "the whole suite, this test included",
  "npm start -- --model hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF": "downloads ~400 MB from Hugging Face; npm-start.test.ts starts npm start, cli.test.ts downloads from a local hub",
  "npm start -- --model file:/path/to/model.gguf": "a path to your own GGUF; npm-start.test.ts starts npm start",
  "npm start -- --model-name chat": "a second local cloud beside this one; npm-start.test.ts starts npm start with --model-name",
  "claude --model rbee-tiny": "Claude Code is a program of its own, not installed here; dialects-end-to-end.test.ts speaks its API",
  "codex -c model_provider=rbee -m rbee-tiny": "Codex is a program of its own, not installed here; dialects-end-to-end.test.ts speaks its API",
  "rbee status": "a synopsis of the CLI's commands; cli.test.ts runs each",
  "rbee hives ls | get <name> | add <name> | token <name> | revoke <name>": "a synopsis; cli.test.ts runs each",
  "rbee workers ls | get <id> | start --hive local --model <name> --source <source> | stop <id>": "a synopsis; cli.test.ts runs each",
  "rbee models ls [--hive local] | pull hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF --hive local | rm <source> --hive local": "a synopsis; cli.test.ts runs each",
  "rbee models alias coder hf:Qwen/Qwen2.5-Coder-7B-Instruct-GGUF": "a synopsis; cli.test.ts runs it",
  "rbee jobs ls | watch <id> | cancel <id>": "a synopsis; cli.test.ts runs each",
  "rbee keys create --name app --scopes inference | ls | get <id> | rotate <id> | revoke <id>": "a synopsis; cli.test.ts runs each",
  "rbee keys update <id> --daily-tokens 500000 --rpm none": "a synopsis; cli.test.ts runs it",
  "rbee usage [--key <id>] [--from YYYY-MM-DD] [--to YYYY-MM-DD]": "a synopsis; cli.test.ts runs each",
  'rbee chat "Hello"': "a synopsis; cli.test.ts runs each",
  "npx wrangler login": "authorizes wrangler with a Cloudflare account, in a browser",
  "npx wrangler d1 create rbee": "creates a database in a Cloudflare account; the local D1 needs no id (wrangler.toml's placeholder)",
  "npx wrangler secret put RBEE_ADMIN_KEY": "stores a secret in a Cloudflare account; the local queen gets RBEE_ADMIN_KEY as a binding (scripts/local-cloud/queen.ts)",
  "systemctl --user daemon-reload && systemctl --user enable --now rbee-hive": "needs a systemd user manager; deploy-units.test.ts verifies the unit",
  'sudo loginctl enable-linger "$USER"': "changes the machine's login settings, as root",
  "launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/dev.rbee.hive.plist": "macOS only; deploy-units.test.ts checks the plist",
};
/** Languages of blocks this test cannot run, with the reason; a block in any other language fails it. */
const LANGUAGES_NOT_RUN: Record<string, string> = {
  "": "plain text (the diagram), no commands",
  python: "this machine's Python has no openai package (pip would fetch it); the js block beside it runs the same request",
};
/** Commands that run until stopped: started in the background, and the line that says they are up. */
const DAEMONS: Record<string, string> = { "rbee-hive connect": "queen welcomed hive" };
const SHELL = new Set(["sh", "bash", "shell"]);
/** The variables the guide defines, read back after every shell block. */
const GUIDE_VARIABLES = ["QUEEN", "ADMIN_KEY", "KEY", "OPENAI_BASE_URL"] as const;
type GuideVariables = Partial<Record<(typeof GUIDE_VARIABLES)[number], string>>;

interface BlockRun {
  block: ReadmeBlock;
  output: string;
  variables: GuideVariables;
}

describe("the README's commands", () => {
  let cloud: LocalCloud;
  let dir = "";
  let home = "";
  const runs: BlockRun[] = [];
  const daemonPids: number[] = [];
  const readme = readmeBlocks(readFileSync(join(PROJECT_ROOT, "README.md"), "utf8"));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-readme-"));
    home = join(dir, "home");
    await mkdir(home);
    // What npm start keeps: the admin key, which the guide reads from .rbee/admin-key.
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: "local" });
    await mkdir(join(dir, ".rbee"));
    await writeFile(join(dir, ".rbee", "admin-key"), `${cloud.apiKey}\n`, { mode: 0o600 });
    // npm start's worker: rbee-tiny on the hive `local`.
    const worker = await cloud.client.spawnWorker({ hive: "local", model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
    // The js blocks import "openai", as a user's project would have it installed.
    await symlink(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"));
    await writeFile(join(dir, "env.sh"), "");
  }, 240_000);

  afterAll(async () => {
    for (const pid of daemonPids) signalGroup(pid, "SIGTERM");
    // The guide's hive leaves its workers running, as it should: end them, and anything else of the run.
    for (const pid of await processesMentioning(dir)) signalGroup(pid, "SIGKILL", false);
    await cloud?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists only commands the README has, and marks only text its blocks have", () => {
    const commands = new Set(readme.filter((block) => SHELL.has(block.language)).flatMap((block) => shellCommands(block.text)));
    expect(Object.keys(NOT_RUN).filter((command) => !commands.has(command))).toEqual([]);
    for (const block of readme) checkMarkers(block);
    expect(readme.map((block) => block.language).filter((language) => !SHELL.has(language) && language !== "js" && !(language in LANGUAGES_NOT_RUN))).toEqual([]);
  });

  it("gives every streaming example a max_tokens", () => {
    const streaming = readme.filter((block) => /"stream":\s*true|stream:\s*true|stream=True/.test(block.text));
    expect(streaming.length).toBeGreaterThanOrEqual(3);
    for (const block of streaming) expect(block.text, `README line ${block.line}`).toMatch(/max_tokens/);
  });

  it("runs every command, in order, as the guide defines QUEEN, ADMIN_KEY and KEY", { timeout: 600_000 }, async () => {
    const env = blockEnvironment(dir, home, cloud);
    for (const block of readme) {
      if (block.language in LANGUAGES_NOT_RUN) continue;
      const script = block.language === "js" ? await jsScript(dir, block) : shellScript(dir, block, daemonPids.length);
      const tokens = [...runs.map((run) => run.output).join("\n").matchAll(/rbee_ht_[A-Za-z0-9_-]+/g)];
      const started = performance.now();
      const result = await execa("bash", ["-c", script], {
        cwd: PROJECT_ROOT,
        env: { ...env, RBEE_TEST_HIVE_TOKEN: tokens.at(-1)?.[0] ?? "" },
        extendEnv: false,
        all: true,
        reject: false,
        timeout: 240_000,
      });
      expect(result.exitCode, `README line ${block.line} (${block.language}) failed:\n${result.all}`).toBe(0);
      runs.push({ block, output: result.all ?? "", variables: await readVariables(dir) });
      await waitForDaemons(dir, block, daemonPids);
      console.log(`README line ${block.line} (${block.language}): ran in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }

    for (const run of runs) {
      const where = `after README line ${run.block.line}`;
      const { QUEEN, ADMIN_KEY, OPENAI_BASE_URL } = run.variables;
      if (QUEEN !== undefined) expect(QUEEN, where).toBe(cloud.queen.url);
      if (ADMIN_KEY !== undefined) expect(ADMIN_KEY, where).toBe(cloud.apiKey);
      if (QUEEN !== undefined && OPENAI_BASE_URL !== undefined) expect(OPENAI_BASE_URL, where).toBe(`${QUEEN}/v1`);
      if (/"stream":true/.test(run.block.text)) expect(run.output, `${where}: the stream ends`).toContain("data: [DONE]");
    }
    // Locally KEY is the admin key; the deploy guide makes an inference key for clients.
    const keys = runs.map((run) => run.variables.KEY).filter((key) => key !== undefined);
    expect(keys[0]).toBe(cloud.apiKey);
    expect(keys.at(-1)).toMatch(/^rbee_sk_/);
    expect(keys.at(-1)).not.toBe(cloud.apiKey);
    const models = await fetch(`${cloud.queen.url}/v1/models`, { headers: { authorization: `Bearer ${keys.at(-1) ?? ""}` } });
    expect(models.status).toBe(200);

    // The stand-ins did their part: the queen bundled, the migrations applied to a local D1.
    expect(existsSync(join(dir, "dist", "index.js"))).toBe(true);
    expect(existsSync(join(dir, "d1"))).toBe(true);
    // The guide's hive ran from the tarball npm pack made, installed where npm install -g puts it.
    expect(daemonPids).toHaveLength(1);
    expect(await readFile(`/proc/${daemonPids[0]}/cmdline`, "utf8")).toContain(join(dir, "global", "bin", "rbee-hive"));
    const output = runs.map((run) => run.output).join("\n");
    expect(output).toMatch(/serves 'qwen-0\.5b' on hive 'gaming-pc'/);
  });
});

/** The environment every block starts from: the caller's, less anything of rbee's or a user's config, plus the test's. */
function blockEnvironment(dir: string, home: string, cloud: LocalCloud): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !/^(RBEE_|OPENAI_|ANTHROPIC_|XDG_|CLOUDFLARE_|npm_)/i.test(entry[0]),
    ),
  );
  const prefix = join(dir, "global");
  return {
    ...inherited,
    HOME: home,
    PATH: `${join(prefix, "bin")}:${process.env.PATH ?? ""}`,
    // Where npm install -g (and npm root -g) put packages: a folder of the test's.
    npm_config_prefix: prefix,
    // No prompts, no update checks, no telemetry.
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    // One thread per worker: with the default (every core) the tiny model crawls on a shared machine.
    RBEE_WORKER_THREADS: "1",
    RBEE_TEST_DIR: dir,
    RBEE_TEST_QUEEN: cloud.queen.url,
    RBEE_TEST_ADMIN_KEY: cloud.apiKey,
    RBEE_TEST_MODEL_SOURCE: cloud.modelSource,
  };
}

/**
 * A shell block as one bash script: the variables earlier blocks exported, then its commands (the
 * listed ones left out, markers applied, daemons in the background), then its exports saved.
 * curl fails on an HTTP error, as a person reading the answer would notice it.
 */
function shellScript(dir: string, block: ReadmeBlock, daemonsSoFar: number): string {
  const commands = shellCommands(block.text).filter((command) => !(command in NOT_RUN));
  const lines = commands.map((command, index) => {
    const ready = DAEMONS[command];
    if (ready === undefined) return substitute(command, block.substitutions);
    if (index !== commands.length - 1) throw new Error(`README line ${block.line}: '${command}' runs until stopped, so it must end its block`);
    const log = join(dir, `daemon-${daemonsSoFar}.log`);
    return `setsid ${substitute(command, block.substitutions)} > '${log}' 2>&1 < /dev/null & echo $! > '${log}.pid'`;
  });
  return [
    "set -euo pipefail",
    'curl() { command curl --fail-with-body --silent --show-error "$@"; }',
    `source '${join(dir, "env.sh")}'`,
    ...lines,
    // The test's own values (RBEE_TEST_*) come fresh to each block, not from the saved ones.
    `export -p | grep -v '^declare -x RBEE_TEST_' > '${join(dir, "env.sh")}'`,
    `for name in ${GUIDE_VARIABLES.join(" ")}; do [ -n "\${!name+set}" ] && printf '%s=%s\\n' "$name" "\${!name}"; done > '${join(dir, "variables")}' || true`,
  ].join("\n");
}

/** A js block as a module beside a node_modules, run with the variables earlier blocks exported. */
async function jsScript(dir: string, block: ReadmeBlock): Promise<string> {
  const file = join(dir, `block-${block.line}.mjs`);
  await writeFile(file, substitute(block.text, block.substitutions));
  return [`source '${join(dir, "env.sh")}'`, `node '${file}'`, `: > '${join(dir, "variables")}'`].join("\n");
}

async function readVariables(dir: string): Promise<GuideVariables> {
  const text = await readFile(join(dir, "variables"), "utf8");
  const variables: GuideVariables = {};
  for (const line of text.split("\n")) {
    const equals = line.indexOf("=");
    const name = line.slice(0, equals);
    if (equals > 0 && (GUIDE_VARIABLES as readonly string[]).includes(name)) variables[name as keyof GuideVariables] = line.slice(equals + 1);
  }
  return variables;
}

/** Waits until the daemons a block started say they are up; remembers their pids. */
async function waitForDaemons(dir: string, block: ReadmeBlock, pids: number[]): Promise<void> {
  for (const command of shellCommands(block.text)) {
    const ready = DAEMONS[command];
    if (ready === undefined) continue;
    const log = join(dir, `daemon-${pids.length}.log`);
    pids.push(Number((await readFile(`${log}.pid`, "utf8")).trim()));
    await waitUntil(async () => (await readFile(log, "utf8")).includes(ready), 60_000, `'${command}' to print '${ready}'`).catch(async (error: Error) => {
      throw new Error(`${error.message}; its output:\n${await readFile(log, "utf8")}`);
    });
  }
}

/** Signals a process group (a daemon started with setsid), or one process. */
function signalGroup(pid: number, signal: NodeJS.Signals, group = true): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    // already gone
  }
}
