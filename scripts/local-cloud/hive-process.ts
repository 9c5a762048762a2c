// Runs `rbee-hive connect` as a real child process, for `npm start` and the end-to-end tests.
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { HIVE_EXIT } from "../../hive/cli-program.js";
import { parseConnectOptions } from "../../hive/config/options.js";
import { workerInstallationsIn } from "../../hive/processes/worker-process-check.js";
import { channelAddress } from "../../hive/workers/channel-socket-path.js";
import { stopChannelWorkers } from "../../hive/workers/stop-channel-workers.js";
import { EXIT_WITH_PARENT_ENV } from "../../shared/protocol/exit-with-parent.js";

const HIVE_BIN = fileURLToPath(new URL("../../bin/rbee-hive.js", import.meta.url));
/** The line hive/hive.ts prints at start, before it connects, when it found workers of a previous hive running. */
const WORKERS_AT_START_LINE = /workers left running by a previous hive: (\S+(?:, \S+)*) \(/;

export interface HiveProcessOptions {
  queenUrl: string;
  name: string;
  token: string;
  workerThreads?: number;
  /** Slots per worker (`--worker-parallel`); default the worker's own. */
  workerParallel?: number;
  /** The hive's catalogs and worker logs (`--cache-dir`); default ~/.cache/rbee. */
  cacheDir?: string;
  /** The hive's channel socket and worker key (`--run-dir`): one per hive of a name on this machine; default `<cacheDir>/run`. */
  runDir?: string;
  /** The most memory the hive offers the queen (`--memory-budget`): bytes, or text such as "512MiB". */
  memoryBudget?: number | string;
  /** Stop the hive's workers when it stops (`npm start`); tests of re-attaching leave them up. */
  stopWorkersOnExit?: boolean;
  /** Stop the hive (as SIGTERM would) once this process is gone, even killed by SIGKILL (`npm start`). */
  exitWithParent?: boolean;
  /** More environment for the hive (e.g. HF_ENDPOINT); it inherits the rest. */
  env?: Record<string, string>;
  /** Receives each line the hive (and the workers it runs) print. */
  onLine?: (line: string) => void;
}

export interface HiveProcess {
  pid: number;
  /** Resolves once the queen has welcomed the hive. */
  welcomed: Promise<void>;
  /** The workers a previous hive left running that this one found at start (they re-attach); known once `welcomed` resolves. */
  readonly workersAtStart: readonly string[];
  /** The exit code once the process has exited, null while it runs. */
  readonly exitCode: number | null;
  /** Resolves once the process has exited, with how. */
  exited: Promise<HiveExit>;
  /** SIGTERM, then SIGKILL after `graceMs`; safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** How a hive process ended: its exit code, or the signal that killed it. */
export interface HiveExit {
  exitCode: number | undefined;
  signal: string | undefined;
  /**
   * Set when it stopped because the queen refused its name or token (exit status 3): the queen's
   * reason, such as "hive token revoked". Starting it again with the same token is refused too.
   */
  refused?: string;
}

/** `rbee-hive connect`'s arguments for `options`. */
function connectArgs(options: HiveProcessOptions): string[] {
  const args = ["--queen", options.queenUrl, "--name", options.name];
  if (options.workerThreads !== undefined) args.push("--worker-threads", String(options.workerThreads));
  if (options.workerParallel !== undefined) args.push("--worker-parallel", String(options.workerParallel));
  if (options.cacheDir !== undefined) args.push("--cache-dir", options.cacheDir);
  if (options.runDir !== undefined) args.push("--run-dir", options.runDir);
  if (options.memoryBudget !== undefined) args.push("--memory-budget", String(options.memoryBudget));
  if (options.stopWorkersOnExit) args.push("--stop-workers-on-exit");
  return args;
}

/** The hive's environment beyond this process's own. The token goes by environment, not argv, so `ps` on a shared machine does not show it. */
function hiveEnv(options: HiveProcessOptions): NodeJS.ProcessEnv {
  return { ...options.env, RBEE_HIVE_TOKEN: options.token, ...(options.exitWithParent ? { [EXIT_WITH_PARENT_ENV]: String(process.pid) } : {}) };
}

export function startHiveProcess(options: HiveProcessOptions): HiveProcess {
  const child: ResultPromise = execa(process.execPath, [HIVE_BIN, "connect", ...connectArgs(options)], {
    env: hiveEnv(options),
    stdin: "ignore",
    all: true,
    reject: false,
    forceKillAfterDelay: 5000,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start rbee-hive");

  const workersAtStart: string[] = [];
  let refusal: string | undefined;
  const welcomed = new Promise<void>((resolve, reject) => {
    let buffered = "";
    child.all?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        options.onLine?.(line);
        const found = WORKERS_AT_START_LINE.exec(line)?.[1];
        if (found !== undefined) workersAtStart.push(...found.split(", "));
        refusal = refusalIn(line) ?? refusal;
        if (line.includes("queen welcomed hive")) resolve();
      }
    });
    void child.then((result) => reject(new Error(`rbee-hive exited before the queen welcomed it (${result.exitCode ?? result.signal})`)));
  });
  welcomed.catch(() => {}); // observed by callers that care; never an unhandled rejection

  const exited = child.then(({ exitCode, signal }): HiveExit => {
    if (exitCode !== HIVE_EXIT.refused) return { exitCode, signal };
    // Its line saying why is JSON unless RBEE_LOG_FORMAT=text was passed on to it.
    return { exitCode, signal, refused: refusal ?? "its name or token was not accepted" };
  });
  let stopped: Promise<void> | undefined;
  return {
    pid,
    welcomed,
    workersAtStart,
    exited,
    get exitCode() {
      return child.exitCode;
    },
    stop(graceMs = 10_000) {
      stopped ??= (async () => {
        if (child.exitCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await child;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}

/** The `refused` field of the hive's JSON log line saying the queen refused it (hive/hive.ts), if this is that line. */
function refusalIn(line: string): string | undefined {
  if (!line.startsWith("{") || !line.includes('"refused"')) return undefined;
  try {
    const fields: unknown = JSON.parse(line);
    return typeof fields === "object" && fields !== null && "refused" in fields && typeof fields.refused === "string" ? fields.refused : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops the workers of the hive `options` start, found in the process table: for a hive given up
 * on (npm start's HiveKeeper), which can no longer stop them itself. Its folders and grace are read
 * as `rbee-hive connect` reads them, its config file and environment included.
 */
export async function stopWorkersOfHive(options: HiveProcessOptions, log: (line: string) => void): Promise<void> {
  const hive = parseConnectOptions(connectArgs(options), { ...process.env, ...hiveEnv(options) }, hostname());
  await stopChannelWorkers(channelAddress(hive.runDir, hive.name), workerInstallationsIn(hive.cacheDir), hive.workerStopGraceMs, log);
}
