// The hive's `connect` options: each from its flag, else its environment variable, else the JSON
// config file, else its default; parsed and validated once here, with errors that name the flag
// (or the config file and key), then passed on as one typed object. The token may also come
// from a file (--token-file), and a --token on the command line, where `ps` shows it to every
// user of the machine, is accepted with a warning.
import os from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { isLoopbackHost } from "../../shared/loopback-host.js";
import { HiveName } from "../../shared/protocol/hive-name.js";
import { DEFAULT_POLL_US, MAX_POLL_US, MAX_SLOTS } from "../../shared/protocol/worker-launch.js";
import { UsageError } from "../../shared/usage-error.js";
import { releaseRepoProblem } from "../provisioners/worker/worker-source.js";
import { parseByteSize } from "./byte-size.js";
import { locateConfigFile, readConfigFile, type UserPaths } from "./config-file.js";
import { readTokenFile } from "./token-file.js";
import { absolutePath, pathsOf, rbeeDir } from "./user-dirs.js";

export type { UserPaths } from "./config-file.js";

export const DEFAULTS = {
  /** Queen to connect to (env RBEE_QUEEN_URL). */
  queenUrl: "http://127.0.0.1:7833",
  /** Hive name (env RBEE_HIVE_NAME); defaults to the machine's host name. */
  name: undefined,
  /** First reconnect delay ceiling, ms. */
  reconnectBaseMs: 500,
  /** Window over which the first reconnect after a deploy is spread, ms (1,000 hives → ~200 a second). */
  reconnectSpreadMs: 5000,
  /** Largest reconnect delay, ms. */
  reconnectMaxMs: 30_000,
  /** How long a worker being deleted may drain after SIGTERM before SIGKILL, ms (env RBEE_WORKER_STOP_GRACE_MS). */
  workerStopGraceMs: 10_000,
  /** How long a loading worker's progress may stand still before its load counts as stalled and it is stopped, ms (env RBEE_WORKER_LOAD_STALL_MS). */
  workerLoadStallMs: 300_000,
  /** Models and worker builds (env RBEE_CACHE_DIR); defaults to `$XDG_CACHE_HOME/rbee`, else `~/.cache/rbee`. */
  cacheDir: undefined,
  /** The hive's channel socket and worker key (env RBEE_RUN_DIR); defaults to `<cacheDir>/run`. */
  runDir: undefined,
  /** Whether SIGTERM stops the workers too; by default they keep running for the next hive to re-attach. */
  stopWorkersOnExit: false,
  /** GitHub API that worker releases are fetched from (env RBEE_GITHUB_API_URL). */
  githubApiUrl: "https://api.github.com",
  /**
   * `owner/repo` whose releases bare worker ids (`cuda-llm-worker-rbee-v0.2.0-linux`, `v0.2.0`) are
   * looked up in (env RBEE_WORKER_RELEASE_REPO). None by default: a hive runs what it downloads,
   * so the repository it trusts is named by whoever runs it, never guessed.
   */
  workerReleaseRepo: undefined,
  /** Memory this hive offers the queen, in bytes (env RBEE_MEMORY_BUDGET); unset: all the machine has. */
  memoryBudget: undefined,
} as const;

const MEMORY_BUDGET_EXPECTED = "expected a size such as 4GiB, 512MiB or a number of bytes, at least 1MiB";

const Settings = z.object({
  queenUrl: z
    .url({ protocol: /^(https?|wss?)$/, error: "must be an http(s):// or ws(s):// URL" })
    .refine(
      (value) => /^(https|wss):$/.test(new URL(value).protocol) || isLoopbackHost(new URL(value).hostname),
      "must be an https:// or wss:// URL unless the queen runs on this machine (localhost, 127.0.0.1, [::1]): over plain http:// or ws:// the hive's token and the queen's commands (which this machine runs) cross the network readable and forgeable",
    ),
  token: z
    .string({
      error: (issue) =>
        issue.input === undefined ? "is required: set RBEE_HIVE_TOKEN, pass --token-file <file>, or put token in the config file (chmod 600)" : "must be a string",
    })
    .min(1, "must not be empty"),
  /** A file holding the token (read once, at start); it must be readable by this user alone. */
  tokenFile: z.string().min(1, "must not be empty").optional(),
  name: HiveName,
  workerThreads: z.number().int("must be a whole number").min(1, "must be at least 1").max(4096, "must be at most 4096").optional(),
  workerParallel: z.number().int("must be a whole number").min(1, "must be at least 1").max(MAX_SLOTS, `must be at most ${MAX_SLOTS}`).optional(),
  workerPollUs: z.number().int("must be a whole number of µs").min(0, "must be 0 or more").max(MAX_POLL_US, `must be at most ${MAX_POLL_US} (a second)`).optional(),
  workerStopGraceMs: z.number().int("must be a whole number of ms").min(0, "must be 0 or more").max(600_000, "must be at most 600000 (10 minutes)"),
  workerLoadStallMs: z.number().int("must be a whole number of ms").min(1000, "must be at least 1000 (1 second)").max(86_400_000, "must be at most 86400000 (a day)"),
  cacheDir: z.string().min(1, "must not be empty"),
  /** Where the channel socket and the worker key are: one per hive of a name on this machine. */
  runDir: z.string().min(1, "must not be empty"),
  stopWorkersOnExit: z.boolean(),
  githubApiUrl: z.url({ protocol: /^https?$/, error: "must be an http(s):// URL" }),
  workerReleaseRepo: z
    .string()
    .superRefine((value, ctx) => {
      const problem = releaseRepoProblem(value);
      if (problem) ctx.addIssue({ code: "custom", message: `must be a GitHub repository as owner/repo, e.g. rbee-dev/rbee: ${problem}` });
    })
    .optional(),
  /** Caps the RAM and each GPU's VRAM the hive reports as total and free, in bytes (a number, or text such as "4GiB"). */
  memoryBudget: z
    .union([z.number(), z.string()], { error: MEMORY_BUDGET_EXPECTED })
    .transform((value, ctx) => {
      const bytes = typeof value === "number" ? value : parseByteSize(value);
      if (bytes !== undefined && Number.isSafeInteger(bytes) && bytes >= 1024 ** 2) return bytes;
      ctx.addIssue({ code: "custom", message: MEMORY_BUDGET_EXPECTED });
      return z.NEVER;
    })
    .optional(),
});
type Settings = z.infer<typeof Settings>;
type Key = keyof Settings;

/** What the config file may hold: the same options, each optional, and nothing else. */
const ConfigFileSettings = Settings.partial().strict();

export type ConnectOptions = Omit<Settings, "tokenFile"> & {
  /** The config file the options were read from; null when none was. */
  configFile: string | null;
  /** What a person should change (a token on the command line), for the CLI to print. */
  warnings: string[];
};

// How each option arrives from outside; the flag also names it in every message.
const SOURCES: Record<Key, { flag: string; env: string; type: "string" | "integer" | "boolean" }> = {
  queenUrl: { flag: "queen", env: "RBEE_QUEEN_URL", type: "string" },
  token: { flag: "token", env: "RBEE_HIVE_TOKEN", type: "string" },
  tokenFile: { flag: "token-file", env: "RBEE_HIVE_TOKEN_FILE", type: "string" },
  name: { flag: "name", env: "RBEE_HIVE_NAME", type: "string" },
  workerThreads: { flag: "worker-threads", env: "RBEE_WORKER_THREADS", type: "integer" },
  workerParallel: { flag: "worker-parallel", env: "RBEE_WORKER_PARALLEL", type: "integer" },
  workerPollUs: { flag: "worker-poll-us", env: "RBEE_WORKER_POLL_US", type: "integer" },
  workerStopGraceMs: { flag: "worker-stop-grace-ms", env: "RBEE_WORKER_STOP_GRACE_MS", type: "integer" },
  workerLoadStallMs: { flag: "worker-load-stall-ms", env: "RBEE_WORKER_LOAD_STALL_MS", type: "integer" },
  cacheDir: { flag: "cache-dir", env: "RBEE_CACHE_DIR", type: "string" },
  runDir: { flag: "run-dir", env: "RBEE_RUN_DIR", type: "string" },
  stopWorkersOnExit: { flag: "stop-workers-on-exit", env: "RBEE_STOP_WORKERS_ON_EXIT", type: "boolean" },
  githubApiUrl: { flag: "github-api-url", env: "RBEE_GITHUB_API_URL", type: "string" },
  workerReleaseRepo: { flag: "worker-release-repo", env: "RBEE_WORKER_RELEASE_REPO", type: "string" },
  memoryBudget: { flag: "memory-budget", env: "RBEE_MEMORY_BUDGET", type: "string" },
};
const KEYS = Object.keys(SOURCES) as Key[];
/** Never echoed back in a message: it would land in logs. */
const SECRET_KEYS: ReadonlySet<string> = new Set<Key>(["token"]);
/** Options holding a path, taken from the working folder (flag, environment) or the config file's folder. */
const PATH_KEYS: ReadonlySet<Key> = new Set<Key>(["cacheDir", "runDir", "tokenFile"]);
/** How strongly each source speaks: a flag over the environment over the config file. */
const FLAG_RANK = 3;
const ENV_RANK = 2;
const CONFIG_RANK = 1;

/** How each option reads in `rbee-hive connect --help`; SOURCES adds its variable and config key. */
const HELP: Record<Key, { value?: string; help: string; default?: string }> = {
  queenUrl: {
    value: "<url>",
    help: "queen base URL; https:// unless the queen runs on this machine; a trailing /v1 is dropped",
    default: DEFAULTS.queenUrl,
  },
  tokenFile: { value: "<file>", help: "file holding this hive's token from POST /v1/hives, readable by you alone (chmod 600)" },
  token: {
    value: "<token>",
    help: "the token itself (in a config file: chmod 600); on the command line every user of this machine sees it (ps): prefer the environment or --token-file",
  },
  name: { value: "<name>", help: "this hive's name", default: "the host name" },
  workerThreads: { value: "<n>", help: "CPU threads per worker", default: "the worker's own, one per physical core" },
  workerParallel: { value: "<n>", help: "requests each worker generates at once, one context slot each", default: "the worker's own, 1" },
  workerPollUs: {
    value: "<µs>",
    help: "how long a worker's event loop polls after a token for the next instead of sleeping, when tokens come that fast: faster streams of fast models, one CPU core busy while they stream (never for a CPU worker whose threads take every core); 0: never",
    default: `the worker's own, ${DEFAULT_POLL_US}`,
  },
  workerStopGraceMs: {
    value: "<ms>",
    help: "how long a stopped worker may drain after SIGTERM before SIGKILL, in ms (Windows has no SIGTERM: workers end at once)",
    default: String(DEFAULTS.workerStopGraceMs),
  },
  workerLoadStallMs: {
    value: "<ms>",
    help: "how long a loading worker's progress may stand still before the load counts as stalled and the worker is stopped, in ms; a slow load that keeps progressing is never cut",
    default: `${DEFAULTS.workerLoadStallMs}, 5 minutes`,
  },
  cacheDir: {
    value: "<dir>",
    help: "where downloaded models and worker builds are kept",
    default: "$XDG_CACHE_HOME/rbee, else ~/.cache/rbee on Linux, ~/Library/Caches/rbee on macOS, %LOCALAPPDATA%\\rbee on Windows",
  },
  runDir: {
    value: "<dir>",
    help: "folder of this hive's channel socket and worker key (private to you); two hives of one name on this machine (two npm starts side by side) need one each, and a restarted hive re-attaches the workers that outlived it only from the same one",
    default: "<cache-dir>/run",
  },
  stopWorkersOnExit: {
    help: "on SIGINT/SIGTERM stop the workers too (env value 1); by default workers keep running and a restarted hive re-attaches them; --no-stop-workers-on-exit turns it off again",
    default: "off",
  },
  githubApiUrl: { value: "<url>", help: "GitHub API worker releases are fetched from", default: DEFAULTS.githubApiUrl },
  workerReleaseRepo: {
    value: "<owner/repo>",
    help: "GitHub repository whose releases worker_install takes bare worker ids (cuda-llm-worker-rbee-v0.2.0-linux) and tags (v0.2.0) from",
    default: "none: name it",
  },
  memoryBudget: {
    value: "<size>",
    help: "the most RAM (and VRAM per GPU) this hive offers the queen, e.g. 4GiB or 512MiB: it reports at most this as total, and this less what its workers use as free, so several hives can share one machine",
    default: "all the machine has",
  },
};

const CONFIG_FLAG = {
  flags: "--config <file>",
  description:
    "JSON config file (env RBEE_CONFIG; default $XDG_CONFIG_HOME/rbee/hive.json, else ~/.config/rbee/hive.json on Linux, ~/Library/Application Support/rbee/hive.json on macOS, %APPDATA%\\rbee\\hive.json on Windows; read only if it exists)",
} as const;

/** `connect`'s flags as `rbee-hive connect --help` lists them: commander's `flags` and `description`. */
export function connectFlags(): Array<{ flags: string; description: string }> {
  const flags: Array<{ flags: string; description: string }> = [CONFIG_FLAG];
  for (const key of KEYS) {
    const { flag, env } = SOURCES[key];
    const { value, help, default: fallback } = HELP[key];
    flags.push({
      flags: value === undefined ? `--${flag}` : `--${flag} ${value}`,
      description: `${help} (env ${env}, key ${key}${fallback === undefined ? "" : `, default ${fallback}`})`,
    });
  }
  flags.push({ flags: "--no-stop-workers-on-exit", description: "leave the workers running on exit (the default), overriding the environment or config file" });
  return flags;
}

export const CONNECT_SUMMARY = [
  "Opens one outbound WebSocket to the queen and runs the workers it asks for.",
  "",
  'Each option is taken from its flag, else its environment variable, else the config file (the key in camelCase, e.g. {"queenUrl": "https://…", "workerThreads": 8}), else its default.',
].join("\n");

/** One line per option: flag, variable and config key; what `rbee-hive --help` shows of `connect`. */
export const CONNECT_USAGE = `Usage: RBEE_HIVE_TOKEN=<token> rbee-hive connect --queen <url> [options]

  ${CONFIG_FLAG.flags.padEnd(30)} env RBEE_CONFIG
${KEYS.map((key) => `  ${`--${SOURCES[key].flag}${HELP[key].value === undefined ? "" : ` ${HELP[key].value}`}`.padEnd(30)} env ${SOURCES[key].env}, key ${key}`).join("\n")}`;

/**
 * Parses `connect`'s flags. `paths` is where `~`, the default config and cache folders and
 * relative paths are found; tests pass a temporary home.
 */
export function parseConnectOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
  hostName: string,
  paths: UserPaths = { homeDir: os.homedir(), cwd: process.cwd() },
): ConnectOptions {
  const flags = readFlags(argv);
  const configFlag = flags.config;
  const location = locateConfigFile(typeof configFlag === "string" ? configFlag : undefined, env, paths);
  const config = readConfigFile(location, ConfigFileSettings, SECRET_KEYS);

  const defaults: Partial<Settings> = {
    queenUrl: DEFAULTS.queenUrl,
    name: sanitizeHostName(hostName),
    workerStopGraceMs: DEFAULTS.workerStopGraceMs,
    workerLoadStallMs: DEFAULTS.workerLoadStallMs,
    cacheDir: rbeeDir("cache", env, paths.homeDir, paths.platform),
    stopWorkersOnExit: DEFAULTS.stopWorkersOnExit,
    githubApiUrl: DEFAULTS.githubApiUrl,
  };
  const merged: Record<string, unknown> = {};
  const labels = new Map<Key, string>();
  const ranks = new Map<Key, number>();
  for (const key of KEYS) {
    const { flag, env: variable } = SOURCES[key];
    const flagValue = flags[flag];
    const envValue = env[variable] === "" ? undefined : env[variable];
    if (flagValue !== undefined) {
      ranks.set(key, FLAG_RANK);
      labels.set(key, `--${flag}`);
      merged[key] = fromText(key, flagValue, `--${flag}`, paths);
    } else if (envValue !== undefined) {
      ranks.set(key, ENV_RANK);
      labels.set(key, `--${flag} (env ${variable})`);
      merged[key] = fromText(key, envValue, `--${flag} (env ${variable})`, paths);
    } else if (config?.[key] !== undefined) {
      ranks.set(key, CONFIG_RANK);
      labels.set(key, `${location.path}: ${key}`);
      // A relative path in a config file means next to the file, wherever the hive starts from.
      const value = config[key];
      merged[key] = PATH_KEYS.has(key) && typeof value === "string" ? absolutePath(value, pathsOf(paths.platform ?? process.platform).dirname(location.path), paths.homeDir, paths.platform) : value;
    } else {
      merged[key] = defaults[key];
    }
  }

  takeTokenFromFile(merged, labels, ranks);
  // Beside the catalogs unless named: where every hive before --run-dir kept them, so a hive
  // upgraded in place still finds the workers that outlived it.
  if (merged.runDir === undefined && typeof merged.cacheDir === "string" && merged.cacheDir !== "") {
    merged.runDir = pathsOf(paths.platform ?? process.platform).join(merged.cacheDir, "run");
  }

  const result = Settings.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = String(issue?.path[0] ?? "") as Key;
    const value = merged[key];
    const got = value === undefined || SECRET_KEYS.has(key) ? "" : `, got ${JSON.stringify(value)}`;
    throw new UsageError(`${labels.get(key) ?? `--${SOURCES[key]?.flag ?? key}`}: ${issue?.message ?? "invalid"}${got}`);
  }
  // Callers append paths (`${githubApiUrl}/repos/…`); a trailing slash would double it.
  const githubApiUrl = result.data.githubApiUrl.replace(/\/+$/, "");
  const { tokenFile: _read, ...settings } = result.data;
  const warnings =
    flags[SOURCES.token.flag] !== undefined
      ? ["--token puts the token where every user of this machine can read it (ps, /proc/<pid>/cmdline, shell history); set RBEE_HIVE_TOKEN or use --token-file <file> (chmod 600) instead"]
      : [];
  return { ...settings, githubApiUrl, configFile: config === undefined ? null : location.path, warnings };
}

/**
 * Replaces the token by the contents of the token file when the file was named by a stronger
 * source than the token (a `--token-file` flag beats RBEE_HIVE_TOKEN); both from one source is
 * a contradiction.
 */
function takeTokenFromFile(merged: Record<string, unknown>, labels: Map<Key, string>, ranks: Map<Key, number>): void {
  const file = merged.tokenFile;
  const fileRank = ranks.get("tokenFile") ?? 0;
  if (typeof file !== "string" || file === "") return;
  const tokenRank = ranks.get("token") ?? 0;
  const fileLabel = labels.get("tokenFile") ?? "--token-file";
  if (tokenRank === fileRank) throw new UsageError(`${labels.get("token") ?? "--token"} and ${fileLabel}: expected one of them, got both`);
  if (tokenRank > fileRank) return;
  merged.token = readTokenFile(file, fileLabel);
  labels.set("token", fileLabel);
  ranks.set("token", fileRank);
}

type FlagValues = Record<string, string | boolean | undefined>;

function readFlags(argv: string[]): FlagValues {
  const options: Record<string, { type: "string" | "boolean" }> = { config: { type: "string" } };
  for (const { flag, type } of Object.values(SOURCES)) options[flag] = { type: type === "boolean" ? "boolean" : "string" };
  // Node 20's parseArgs has no allowNegative, so the "off" flag is an option of its own.
  options["no-stop-workers-on-exit"] = { type: "boolean" };
  let values: FlagValues;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true }) as { values: FlagValues });
  } catch (error) {
    // parseArgs already names the flag ("Unknown option '--tokn'", "Option '--queen <value>' argument missing").
    throw new UsageError((error as Error).message, { cause: error });
  }
  if (values["no-stop-workers-on-exit"] === true) {
    if (values["stop-workers-on-exit"] === true) {
      throw new UsageError("--stop-workers-on-exit and --no-stop-workers-on-exit: expected one of them, got both");
    }
    values["stop-workers-on-exit"] = false;
  }
  return values;
}

/** A flag's or environment variable's text as the option's type; `label` names it in errors. */
function fromText(key: Key, value: string | boolean, label: string, paths: UserPaths): unknown {
  const { type } = SOURCES[key];
  if (typeof value === "boolean" || type === "string") {
    return PATH_KEYS.has(key) && typeof value === "string" && value !== "" ? absolutePath(value, paths.cwd, paths.homeDir, paths.platform) : value;
  }
  const text = value.trim();
  if (type === "integer") {
    if (!/^\d+$/.test(text)) throw new UsageError(`${label}: expected a whole number, got ${JSON.stringify(value)}`);
    return Number(text);
  }
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off)$/i.test(text)) return false;
  throw new UsageError(`${label}: expected 1, true, 0 or false, got ${JSON.stringify(value)}`);
}

/** Host names may hold characters a hive name can't; keep the safe ones. */
function sanitizeHostName(hostName: string): string {
  return hostName.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64) || "hive";
}
