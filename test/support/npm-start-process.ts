// Runs the real `npm start` as a process tree for the tests of test/node/npm-start.test.ts and
// the signals drill: on a free port with its state in a temporary folder, its output collected,
// and the processes it started found through `ps` and /proc so a test can check none is left.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { PROJECT_ROOT } from "../../scripts/local-cloud/queen.js";
import { isAlive, processesMentioning, waitUntil } from "../node/local-cloud.js";

export interface NpmStart {
  /** The `npm` process: the top of the tree, what a supervisor or a terminal signals. */
  process: ResultPromise;
  pid: number;
  /** stdout and stderr so far. */
  readonly output: string;
  /** Resolves once it printed "Ctrl-C stops everything"; rejects with its output if it exits first. */
  ready(timeoutMs?: number): Promise<void>;
  /** Every process of it that still runs: npm, its descendants and the workers its hive detached. */
  started(): Promise<number[]>;
  /** SIGKILLs whatever of it still runs; for a test's `finally`. */
  kill(): Promise<void>;
}

/**
 * Starts `npm start --silent` on `port` with its state (and the hive's cache) under `stateDir`;
 * with `apiKey` (RBEE_API_KEY) a test can call the queen before the key is printed, else one is
 * generated; `args` go to the script (`npm start -- …`).
 */
export function runNpmStart(stateDir: string, port: number, apiKey = "", args: readonly string[] = []): NpmStart {
  const child = execa("npm", ["start", "--silent", ...(args.length === 0 ? [] : ["--", ...args])], {
    cwd: PROJECT_ROOT,
    env: { RBEE_PORT: String(port), RBEE_STATE_DIR: stateDir, RBEE_CACHE_DIR: join(stateDir, "cache"), RBEE_API_KEY: apiKey, RBEE_ADMIN_KEY: "" },
    all: true,
    reject: false,
    // Its own process group, like a shell job, so "Ctrl-C" can reach every process in it.
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start npm");
  let output = "";
  child.all.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const started = async () => {
    // Workers run detached from the hive, so they are found by the state folder in their command line.
    const pids = new Set([pid, ...descendants(pid), ...(await processesMentioning(stateDir))]);
    return [...pids].filter(isAlive);
  };
  return {
    process: child,
    pid,
    get output() {
      return output;
    },
    async ready(timeoutMs = 90_000) {
      await waitUntil(() => output.includes("Ctrl-C stops everything") || child.exitCode !== null, timeoutMs, "npm start to be ready");
      if (!output.includes("Ctrl-C stops everything")) throw new Error(`npm start exited (${child.exitCode}) before it was ready:\n${output}`);
    },
    started,
    async kill() {
      for (const found of await started()) process.kill(found, "SIGKILL");
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** Every process below `pid`, found through `ps` (Linux/macOS). */
export function descendants(pid: number): number[] {
  const table = execFileSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" });
  const children = new Map<number, number[]>();
  for (const line of table.trim().split("\n")) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (child === undefined || parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The command line of a process, for a drill's report ("?" once it is gone). */
export function commandOf(pid: number): string {
  try {
    return execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
}
