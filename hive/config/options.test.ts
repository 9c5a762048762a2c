import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "../../shared/usage-error.js";
import { CONNECT_USAGE, parseConnectOptions, type UserPaths } from "./options.js";

// Every test gets an empty home of its own, so a real ~/.config/rbee/hive.json never leaks in.
let home: string;
let paths: UserPaths;
beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), "rbee-options-"));
  paths = { homeDir: home, cwd: path.join(home, "work") };
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

function parse(argv: string[], env: NodeJS.ProcessEnv = {}, hostName = "h") {
  return parseConnectOptions(argv, env, hostName, paths);
}

/** Writes `content` (an object as JSON, or raw text) to `relative` under the test home, readable by its owner alone unless `mode` says otherwise. */
function writeConfig(relative: string, content: unknown, mode = 0o600): string {
  const file = path.join(home, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  chmodSync(file, mode);
  return file;
}

const TOKEN_ON_COMMAND_LINE = expect.stringMatching(/^--token puts the token where every user of this machine can read it/);

describe("rbee-hive connect options", () => {
  it("reads flags, and fills in every default", () => {
    const options = parse(["--queen", "https://q.example", "--token", "t", "--name", "pc-1"], {}, "host");
    expect(options).toEqual({
      queenUrl: "https://q.example",
      token: "t",
      name: "pc-1",
      workerStopGraceMs: 10_000,
      workerLoadStallMs: 300_000,
      cacheDir: path.join(home, ".cache", "rbee"),
      runDir: path.join(home, ".cache", "rbee", "run"),
      stopWorkersOnExit: false,
      githubApiUrl: "https://api.github.com",
      configFile: null,
      warnings: [TOKEN_ON_COMMAND_LINE],
    });
  });

  it("reads the worker stop grace period from its flag or the environment", () => {
    const base = ["--queen", "https://q", "--token", "t"];
    expect(parse([...base, "--worker-stop-grace-ms", "250"]).workerStopGraceMs).toBe(250);
    expect(parse(base, { RBEE_WORKER_STOP_GRACE_MS: "500" }).workerStopGraceMs).toBe(500);
    expect(() => parse([...base, "--worker-stop-grace-ms", "soon"])).toThrow(/^--worker-stop-grace-ms: expected a whole number, got "soon"$/);
  });

  it("reads how long a worker's load may stand still from its flag or the environment", () => {
    const base = ["--queen", "https://q", "--token", "t"];
    expect(parse([...base, "--worker-load-stall-ms", "60000"]).workerLoadStallMs).toBe(60_000);
    expect(parse(base, { RBEE_WORKER_LOAD_STALL_MS: "900000" }).workerLoadStallMs).toBe(900_000);
    expect(() => parse([...base, "--worker-load-stall-ms", "5"])).toThrow(/^--worker-load-stall-ms: must be at least 1000/);
  });

  it("falls back to the environment, then to the host name", () => {
    const options = parse([], { RBEE_QUEEN_URL: "https://q:1", RBEE_HIVE_TOKEN: "t" }, "My Box!");
    expect(options).toMatchObject({ queenUrl: "https://q:1", token: "t", name: "My-Box-" });
  });

  it("names the missing flag", () => {
    expect(() => parse(["--queen", "https://q"])).toThrow(/^--token: is required/);
  });

  it("names a bad URL", () => {
    expect(() => parse(["--queen", "ftp://q", "--token", "t"])).toThrow(/^--queen: .*http.*, got "ftp:\/\/q"$/);
    expect(() => parse(["--token", "t"], { RBEE_GITHUB_API_URL: "nope" })).toThrow(/^--github-api-url \(env RBEE_GITHUB_API_URL\): must be an http/);
  });

  it("refuses a plain http:// or ws:// queen that is not on this machine, naming the flag, variable or config key and why", () => {
    expect(() => parse(["--queen", "http://queen.example:7833", "--token", "t"])).toThrow(
      /^--queen: must be an https:\/\/ or wss:\/\/ URL unless the queen runs on this machine .*token.*readable and forgeable, got "http:\/\/queen.example:7833"$/,
    );
    expect(() => parse(["--token", "t"], { RBEE_QUEEN_URL: "ws://192.168.1.5:7833" })).toThrow(/^--queen \(env RBEE_QUEEN_URL\): must be an https:\/\/ or wss:\/\/ URL/);
    const file = writeConfig("remote.json", { token: "t", queenUrl: "http://10.0.0.2" });
    expect(() => parse(["--config", file])).toThrow(`${file}: queenUrl: must be an https:// or wss:// URL`);
  });

  it("accepts plain http:// and ws:// for a queen on this machine, and anything over TLS", () => {
    for (const url of ["http://127.0.0.1:7833", "http://localhost:7833", "ws://[::1]:7833", "https://queen.example", "wss://queen.example/base"]) {
      expect(parse(["--queen", url, "--token", "t"]).queenUrl).toBe(url);
    }
  });

  it("refuses hive names that could escape a path", () => {
    expect(() => parse(["--token", "t", "--name", "../x"])).toThrow(/^--name: /);
  });

  it("refuses unknown flags", () => {
    expect(() => parse(["--tokn", "t"])).toThrow(UsageError);
  });

  it("never echoes the token back", () => {
    expect(() => parse(["--token", ""])).toThrow(/^--token: must not be empty$/);
    const file = writeConfig("hive.json", { token: 12345 });
    expect(() => parse(["--config", file])).toThrow(/hive.json: token: must be a string$/);
  });
});

describe("new connect options", () => {
  const base = ["--token", "t"];

  it("takes the cache folder from its flag (relative to the working folder), the environment or XDG_CACHE_HOME", () => {
    expect(parse([...base, "--cache-dir", "cache"]).cacheDir).toBe(path.join(home, "work", "cache"));
    expect(parse(base, { RBEE_CACHE_DIR: "~/models" }).cacheDir).toBe(path.join(home, "models"));
    expect(parse(base, { XDG_CACHE_HOME: "/var/cache/me" }).cacheDir).toBe("/var/cache/me/rbee");
    // The XDG spec says to ignore a relative value.
    expect(parse(base, { XDG_CACHE_HOME: "relative" }).cacheDir).toBe(path.join(home, ".cache", "rbee"));
  });

  it("takes the run folder from its flag (relative to the working folder), RBEE_RUN_DIR or the config file, else <cache folder>/run", () => {
    expect(parse([...base, "--run-dir", "state/hive"]).runDir).toBe(path.join(home, "work", "state", "hive"));
    expect(parse(base, { RBEE_RUN_DIR: "~/run-b" }).runDir).toBe(path.join(home, "run-b"));
    const file = writeConfig("conf/hive.json", { runDir: "run" });
    expect(parse(["--config", file, ...base]).runDir).toBe(path.join(home, "conf", "run"));
    // The run folder follows a cache folder named anywhere, where hives before --run-dir kept their socket and key.
    expect(parse([...base, "--cache-dir", "cache"]).runDir).toBe(path.join(home, "work", "cache", "run"));
    expect(parse(base, { RBEE_CACHE_DIR: "/srv/rbee" }).runDir).toBe("/srv/rbee/run");
    expect(parse([...base, "--cache-dir", "cache", "--run-dir", "/tmp/rbee-a"])).toMatchObject({ cacheDir: path.join(home, "work", "cache"), runDir: "/tmp/rbee-a" });
  });

  it("names an empty --run-dir", () => {
    expect(() => parse([...base, "--run-dir", ""])).toThrow(/^--run-dir: must not be empty, got ""$/);
  });

  it("stops workers on exit only when asked, by flag or environment", () => {
    expect(parse(base).stopWorkersOnExit).toBe(false);
    expect(parse([...base, "--stop-workers-on-exit"]).stopWorkersOnExit).toBe(true);
    expect(parse(base, { RBEE_STOP_WORKERS_ON_EXIT: "1" }).stopWorkersOnExit).toBe(true);
    expect(parse(base, { RBEE_STOP_WORKERS_ON_EXIT: "true" }).stopWorkersOnExit).toBe(true);
    expect(parse([...base, "--no-stop-workers-on-exit"], { RBEE_STOP_WORKERS_ON_EXIT: "1" }).stopWorkersOnExit).toBe(false);
    expect(() => parse(base, { RBEE_STOP_WORKERS_ON_EXIT: "maybe" })).toThrow(
      /^--stop-workers-on-exit \(env RBEE_STOP_WORKERS_ON_EXIT\): expected 1, true, 0 or false, got "maybe"$/,
    );
  });

  it("takes the GitHub API URL from its flag, without a trailing slash", () => {
    expect(parse([...base, "--github-api-url", "https://ghe.example/api/v3/"]).githubApiUrl).toBe("https://ghe.example/api/v3");
  });

  it("takes the default worker release repository from its flag, RBEE_WORKER_RELEASE_REPO or the config file, and has none by default", () => {
    expect(parse(base).workerReleaseRepo).toBeUndefined();
    expect(parse([...base, "--worker-release-repo", "rbee-dev/rbee"]).workerReleaseRepo).toBe("rbee-dev/rbee");
    expect(parse(base, { RBEE_WORKER_RELEASE_REPO: "me/rbee-fork" }).workerReleaseRepo).toBe("me/rbee-fork");
    writeConfig(".config/rbee/hive.json", { workerReleaseRepo: "org/workers" });
    expect(parse(base).workerReleaseRepo).toBe("org/workers");
  });

  it("names a default worker release repository that is not owner/repo", () => {
    expect(() => parse([...base, "--worker-release-repo", "rbee"])).toThrow(/^--worker-release-repo: must be a GitHub repository as owner\/repo, e\.g\. rbee-dev\/rbee: repo "" is not a GitHub repository name/);
    expect(() => parse(base, { RBEE_WORKER_RELEASE_REPO: "../x" })).toThrow(/^--worker-release-repo \(env RBEE_WORKER_RELEASE_REPO\): must be a GitHub repository as owner\/repo.*owner "\.\." is not/);
    expect(() => parse([...base, "--worker-release-repo", "o/r/extra"])).toThrow(/expected exactly owner\/repo, got "o\/r\/extra"$/);
  });

  it("names a bad worker thread count", () => {
    expect(() => parse([...base, "--worker-threads", "0"])).toThrow(/^--worker-threads: must be at least 1, got 0$/);
    expect(() => parse(base, { RBEE_WORKER_THREADS: "many" })).toThrow(/^--worker-threads \(env RBEE_WORKER_THREADS\): expected a whole number/);
  });

  it("takes the slots per worker from --worker-parallel or RBEE_WORKER_PARALLEL, and names a bad count", () => {
    expect(parse(base).workerParallel).toBeUndefined();
    expect(parse([...base, "--worker-parallel", "64"]).workerParallel).toBe(64);
    expect(parse(base, { RBEE_WORKER_PARALLEL: "8" }).workerParallel).toBe(8);
    expect(() => parse([...base, "--worker-parallel", "0"])).toThrow(/^--worker-parallel: must be at least 1, got 0$/);
    expect(() => parse([...base, "--worker-parallel", "257"])).toThrow(/^--worker-parallel: must be at most 256, got 257$/);
  });

  it("takes how long workers poll between tokens from --worker-poll-us or RBEE_WORKER_POLL_US, and names a bad value", () => {
    expect(parse(base).workerPollUs).toBeUndefined();
    expect(parse([...base, "--worker-poll-us", "0"]).workerPollUs).toBe(0);
    expect(parse(base, { RBEE_WORKER_POLL_US: "500" }).workerPollUs).toBe(500);
    expect(() => parse([...base, "--worker-poll-us", "2000000"])).toThrow(/^--worker-poll-us: must be at most 1000000 \(a second\), got 2000000$/);
    expect(() => parse(base, { RBEE_WORKER_POLL_US: "fast" })).toThrow(/^--worker-poll-us \(env RBEE_WORKER_POLL_US\): expected a whole number/);
  });
});

describe("config file", () => {
  const full = {
    queenUrl: "https://from-file.example",
    token: "file-token",
    name: "file-hive",
    workerThreads: 6,
    workerStopGraceMs: 1234,
    workerLoadStallMs: 60_000,
    cacheDir: "cache",
    stopWorkersOnExit: true,
    githubApiUrl: "https://ghe.example/api/v3",
  };

  it("reads the default file under ~/.config/rbee, relative paths in it taken from its folder", () => {
    const file = writeConfig(".config/rbee/hive.json", full);
    const cacheDir = path.join(home, ".config", "rbee", "cache");
    expect(parse([])).toEqual({ ...full, cacheDir, runDir: path.join(cacheDir, "run"), configFile: file, warnings: [] });
  });

  it("honours XDG_CONFIG_HOME, and ignores a default file that does not exist", () => {
    writeConfig("xdg/rbee/hive.json", { token: "xdg" });
    expect(parse([], { XDG_CONFIG_HOME: path.join(home, "xdg") }).token).toBe("xdg");
    expect(() => parse([], { XDG_CONFIG_HOME: path.join(home, "elsewhere") })).toThrow(/^--token: is required/);
  });

  it("ranks flag over environment over config file over default", () => {
    const file = writeConfig("c.json", { queenUrl: "https://file", name: "file", workerStopGraceMs: 1 });
    const env = { RBEE_CONFIG: file, RBEE_QUEEN_URL: "https://env", RBEE_HIVE_NAME: "env", RBEE_HIVE_TOKEN: "t" };
    const options = parse(["--queen", "https://flag"], env);
    expect(options).toMatchObject({ queenUrl: "https://flag", name: "env", workerStopGraceMs: 1, githubApiUrl: "https://api.github.com", configFile: file });
  });

  it("prefers --config over RBEE_CONFIG, and requires a file someone named to exist", () => {
    const flagFile = writeConfig("flag.json", { token: "flag" });
    const envFile = writeConfig("env.json", { token: "env" });
    expect(parse(["--config", flagFile], { RBEE_CONFIG: envFile }).token).toBe("flag");
    expect(() => parse(["--config", "missing.json"])).toThrow(`--config: ${path.join(home, "work", "missing.json")} does not exist`);
    expect(() => parse([], { RBEE_CONFIG: "/nowhere/hive.json" })).toThrow("--config (env RBEE_CONFIG): /nowhere/hive.json does not exist");
  });

  it("refuses an unknown key, naming the key and the file", () => {
    const file = writeConfig("c.json", { token: "t", queenURL: "https://q" });
    expect(() => parse(["--config", file])).toThrow(new RegExp(`^${file}: unknown key "queenURL"; the known keys are queenUrl, token,`));
  });

  it("refuses malformed JSON, naming the file", () => {
    const file = writeConfig("c.json", '{"token": "t",}');
    expect(() => parse(["--config", file])).toThrow(new RegExp(`^${file}: not valid JSON \\(`));
    const list = writeConfig("list.json", "[]");
    expect(() => parse(["--config", list])).toThrow(`${list}: expected a JSON object of options like {"queenUrl": "…"}, got an array`);
  });

  it("names the file and key of a bad value", () => {
    const file = writeConfig("c.json", { token: "t", workerStopGraceMs: "soon" });
    expect(() => parse(["--config", file])).toThrow(`${file}: workerStopGraceMs: Invalid input: expected number, received string, got "soon"`);
    const url = writeConfig("url.json", { token: "t", queenUrl: "ftp://q" });
    expect(() => parse(["--config", url])).toThrow(`${url}: queenUrl: must be an http(s):// or ws(s):// URL, got "ftp://q"`);
  });
});

describe("the hive's token", () => {
  it("warns when it comes from the command line, where ps shows it, and not from elsewhere", () => {
    expect(parse(["--token", "t"]).warnings).toEqual([TOKEN_ON_COMMAND_LINE]);
    expect(parse([], { RBEE_HIVE_TOKEN: "t" }).warnings).toEqual([]);
  });

  it("reads it from --token-file or RBEE_HIVE_TOKEN_FILE, relative to the working folder, without surrounding whitespace", () => {
    writeConfig("work/token", "rbee_ht_fromfile\n");
    expect(parse(["--token-file", "token"])).toMatchObject({ token: "rbee_ht_fromfile", warnings: [] });
    expect(parse([], { RBEE_HIVE_TOKEN_FILE: path.join(home, "work", "token") }).token).toBe("rbee_ht_fromfile");
    expect(parse(["--token-file", "token"])).not.toHaveProperty("tokenFile");
  });

  it("reads it from a tokenFile in the config file, relative to the config file's folder", () => {
    writeConfig(".config/rbee/token", "rbee_ht_beside");
    writeConfig(".config/rbee/hive.json", { tokenFile: "token" }, 0o644);
    expect(parse([]).token).toBe("rbee_ht_beside");
  });

  it("takes the token from the stronger source: a --token-file flag over RBEE_HIVE_TOKEN, RBEE_HIVE_TOKEN over a config file's tokenFile", () => {
    writeConfig("work/token", "from-file");
    expect(parse(["--token-file", "token"], { RBEE_HIVE_TOKEN: "from-env" }).token).toBe("from-file");
    const config = writeConfig("c.json", { tokenFile: path.join(home, "work", "token") });
    expect(parse(["--config", config], { RBEE_HIVE_TOKEN: "from-env" }).token).toBe("from-env");
    expect(() => parse(["--token", "t", "--token-file", "token"])).toThrow(/^--token and --token-file: expected one of them, got both$/);
  });

  it.skipIf(process.platform === "win32")("refuses a token file other users may read, saying chmod 600", () => {
    const file = writeConfig("work/token", "secret-token", 0o640);
    expect(() => parse(["--token-file", "token"])).toThrow(`${file} holds the hive's token but other users of this machine may read it (mode 640); run chmod 600 ${file}`);
  });

  it("names an empty or missing token file, never echoing what it holds", () => {
    writeConfig("work/empty", "  \n");
    expect(() => parse(["--token-file", "empty"])).toThrow(/^--token-file: .*empty is empty/);
    expect(() => parse(["--token-file", "missing"])).toThrow(/^--token-file: cannot read .*missing \(ENOENT\)$/);
    writeConfig("work/two", "secret-a secret-b");
    expect(() => parse(["--token-file", "two"])).toThrow(/holds more than one word; expected the token alone$/);
    expect(() => parse(["--token-file", "two"])).not.toThrow(/secret-a/);
  });

  it.skipIf(process.platform === "win32")("refuses a config file holding the token that group or others may read, saying chmod 600", () => {
    for (const mode of [0o640, 0o604]) {
      const file = writeConfig("hive.json", { token: "t" }, mode);
      expect(() => parse(["--config", file]), mode.toString(8)).toThrow(`${file} holds a secret (token) but other users of this machine may read it (mode ${mode.toString(8)}); run chmod 600 ${file}`);
    }
    const noSecret = writeConfig("open.json", { name: "open" }, 0o644);
    expect(parse(["--config", noSecret], { RBEE_HIVE_TOKEN: "t" }).name).toBe("open");
  });
});

describe("--memory-budget", () => {
  const base = ["--queen", "https://q", "--token", "t"];

  it("reads a size in binary units or bytes from its flag, the environment or the config file", () => {
    expect(parse([...base, "--memory-budget", "4GiB"]).memoryBudget).toBe(4 * 1024 ** 3);
    expect(parse([...base, "--memory-budget", "512 MiB"]).memoryBudget).toBe(512 * 1024 ** 2);
    expect(parse([...base, "--memory-budget", "1.5G"]).memoryBudget).toBe(1.5 * 1024 ** 3);
    expect(parse(base, { RBEE_MEMORY_BUDGET: "2097152" }).memoryBudget).toBe(2 * 1024 ** 2);
    const file = writeConfig("budget.json", { token: "t", memoryBudget: "1GiB" });
    expect(parse(["--config", file]).memoryBudget).toBe(1024 ** 3);
    expect(parse(base).memoryBudget).toBeUndefined();
  });

  it("names the flag, variable or config key of a budget that is no size", () => {
    expect(() => parse([...base, "--memory-budget", "lots"])).toThrow(/^--memory-budget: expected a size such as 4GiB, 512MiB or a number of bytes, at least 1MiB, got "lots"$/);
    expect(() => parse(base, { RBEE_MEMORY_BUDGET: "10" })).toThrow(/^--memory-budget \(env RBEE_MEMORY_BUDGET\): expected a size/);
    const file = writeConfig("bad-budget.json", { token: "t", memoryBudget: true });
    expect(() => parse(["--config", file])).toThrow(/memoryBudget: expected a size/);
  });
});

describe("CONNECT_USAGE", () => {
  it("shows every flag with its environment variable and config key", () => {
    for (const flag of ["--config", "--queen", "--token", "--token-file", "--name", "--worker-threads", "--worker-stop-grace-ms", "--cache-dir", "--run-dir", "--stop-workers-on-exit", "--github-api-url", "--worker-release-repo", "--memory-budget"]) {
      expect(CONNECT_USAGE).toContain(flag);
    }
    for (const key of ["queenUrl", "workerStopGraceMs", "cacheDir", "runDir", "stopWorkersOnExit", "githubApiUrl", "RBEE_CACHE_DIR", "RBEE_RUN_DIR", "RBEE_CONFIG", "RBEE_HIVE_TOKEN_FILE", "tokenFile", "RBEE_MEMORY_BUDGET", "memoryBudget", "RBEE_WORKER_RELEASE_REPO", "workerReleaseRepo"]) {
      expect(CONNECT_USAGE).toContain(key);
    }
  });
});
