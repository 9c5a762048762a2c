// `rbee-hive` on commander: help on the program and on `connect` lists every flag with its
// environment variable, usage errors exit 2 and say where to read more, and `connect` gets its
// own arguments untouched for parseConnectOptions (whose tests are the options' contract).
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { UsageError } from "../shared/usage-error.js";
import { PROTOCOL_VERSION } from "../shared/protocol/hive-frames.js";
import { VERSION_LINE } from "../shared/rbee-version.js";
import { runHiveCli } from "./cli-program.js";

const FLAGS_AND_VARIABLES = [
  ["--config", "RBEE_CONFIG"],
  ["--queen", "RBEE_QUEEN_URL"],
  ["--token", "RBEE_HIVE_TOKEN"],
  ["--token-file", "RBEE_HIVE_TOKEN_FILE"],
  ["--name", "RBEE_HIVE_NAME"],
  ["--worker-threads", "RBEE_WORKER_THREADS"],
  ["--worker-parallel", "RBEE_WORKER_PARALLEL"],
  ["--worker-stop-grace-ms", "RBEE_WORKER_STOP_GRACE_MS"],
  ["--worker-load-stall-ms", "RBEE_WORKER_LOAD_STALL_MS"],
  ["--cache-dir", "RBEE_CACHE_DIR"],
  ["--run-dir", "RBEE_RUN_DIR"],
  ["--stop-workers-on-exit", "RBEE_STOP_WORKERS_ON_EXIT"],
  ["--github-api-url", "RBEE_GITHUB_API_URL"],
  ["--memory-budget", "RBEE_MEMORY_BUDGET"],
] as const;

async function run(argv: string[], connect: (args: string[]) => Promise<void> = async () => {}) {
  let out = "";
  let err = "";
  const status = await runHiveCli(argv, { connect }, { writeOut: (text) => (out += text), writeErr: (text) => (err += text) });
  return { status, out, err };
}

describe("rbee-hive's command line", () => {
  it("lists every connect flag with its environment variable, in rbee-hive --help and rbee-hive connect --help", async () => {
    for (const argv of [["--help"], ["connect", "--help"], ["help", "connect"]]) {
      const { status, out } = await run(argv);
      expect(status, argv.join(" ")).toBe(0);
      for (const [flag, variable] of FLAGS_AND_VARIABLES) {
        expect(out, `${argv.join(" ")}: ${flag}`).toMatch(new RegExp(`${flag}\\b[^\\n]*(\\n[^-\\n][^\\n]*)*?${variable}\\b`));
      }
    }
    expect((await run(["connect", "--help"])).out).toContain("--no-stop-workers-on-exit");
  });

  it("says its release and hive protocol with --version, and exits 0", async () => {
    const { status, out } = await run(["--version"]);
    expect(status).toBe(0);
    expect(out).toBe(`${VERSION_LINE}\n`);
    expect(VERSION_LINE).toMatch(new RegExp(`^\\d+\\.\\d+\\.\\d+ \\(hive protocol ${PROTOCOL_VERSION}; its queen takes hives of protocols \\d+ to ${PROTOCOL_VERSION}\\)$`));
  });

  it("hands connect exactly the arguments after it", async () => {
    const received: string[][] = [];
    const argv = ["connect", "--queen", "https://q.example", "--stop-workers-on-exit", "--memory-budget", "4GiB"];
    expect((await run(argv, async (args) => void received.push(args))).status).toBe(0);
    expect(received).toEqual([argv.slice(1)]);
  });

  it("exits 2 on a misspelt flag or command, suggesting the right one and pointing at --help", async () => {
    const flag = await run(["connect", "--tokn", "t"]);
    expect(flag.status).toBe(2);
    expect(flag.err).toContain("unknown option '--tokn'");
    expect(flag.err).toContain("Did you mean --token?");
    expect(flag.err).toContain("rbee-hive connect --help");
    const command = await run(["conect"]);
    expect(command.status).toBe(2);
    expect(command.err).toContain("Did you mean connect?");
    expect((await run([])).status).toBe(2);
  });

  it("exits 2 with the option's own message when connect refuses a value, and 1 when the hive fails", async () => {
    const refused = await run(["connect"], async () => {
      throw new UsageError("--token: is required: set RBEE_HIVE_TOKEN, pass --token-file <file>, or put token in the config file (chmod 600)");
    });
    expect(refused).toMatchObject({ status: 2, err: expect.stringMatching(/^rbee-hive connect: --token: is required: .*\n\(rbee-hive connect --help lists every option\)\n$/) });
    const failed = await run(["connect"], async () => {
      throw new Error("another hive is already listening on /run/hive-x.sock; stop it, or give this one another --name");
    });
    expect(failed).toMatchObject({ status: 1, err: expect.stringContaining("give this one another --name") });
  });

  it("runs as bin/rbee-hive.js: a bad value exits 2 naming the flag", async () => {
    const bin = fileURLToPath(new URL("../bin/rbee-hive.js", import.meta.url));
    const result = await execa(process.execPath, [bin, "connect", "--queen", "ftp://q"], {
      reject: false,
      env: { RBEE_HIVE_TOKEN: "t", XDG_CONFIG_HOME: "/nonexistent" },
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^rbee-hive connect: --queen: /);
  });
});
