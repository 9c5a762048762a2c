// Starts a worker process, detached, so it outlives the hive: a restarted hive finds it again
// through its fixed channel socket. Its output goes to a log file (a pipe to a hive that is gone
// would kill it with EPIPE), which is also where the hive reads its `listening` line and, if it
// dies before listening, its last words. Resolves `{pid, port}` once it listens, which a worker
// does before it loads its model: the load is followed from its heartbeats (worker-readiness.ts),
// so a model that takes minutes to load is not held to this start deadline.
import { spawn } from "node:child_process";
import { mkdir, open, readFile } from "node:fs/promises";
import { RbeeError } from "../../shared/errors.js";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { listeningPortIn } from "../../shared/protocol/listening-line.js";
import { workerLaunchArgs } from "../../shared/protocol/worker-launch.js";
import { workerEnv, type WorkerGpu } from "./worker-env.js";
import { lastWords, workerLogFile } from "./worker-log.js";

/**
 * How long a worker may take to listen by default, ms: node starting and the flags parsed, on a
 * machine that may be busy; the model loads afterwards and is not counted.
 */
const DEFAULT_LISTEN_TIMEOUT_MS = 30_000;
/** How often the log file is read for the listening line, ms. */
const LOG_POLL_MS = 50;

export interface WorkerLaunch {
  /** The executable: node for a bundled worker, or a native worker binary. */
  command: string;
  /** Arguments before the worker's own flags (e.g. the bundle's path). */
  args: string[];
}

export interface SpawnWorkerOptions {
  workerId: string;
  modelName: string;
  modelPath: string;
  launch: WorkerLaunch;
  /** Passed as `--gpu`; `cpu` keeps it off every GPU. */
  gpu: WorkerGpu;
  /** Which GPU of its backend (index), through the backend's visible-devices variable. */
  deviceIndex?: number | undefined;
  hiveChannel: string;
  /** The worker's API secret, passed in its environment (never its arguments: `ps` shows those). */
  secret: string;
  heartbeatIntervalMs: number;
  threads?: number | undefined;
  /** Slots: requests the worker generates at once; undefined keeps the worker's default. */
  parallel?: number | undefined;
  /** µs the worker polls after a token for the next (`--poll-us`); undefined keeps the worker's default. */
  pollUs?: number | undefined;
  /** Folder for the worker's log file, `<workerId>.log`. */
  logDir: string;
  log: (line: string) => void;
  /** Aborting it before the worker listens kills the worker; afterwards it changes nothing. */
  signal?: AbortSignal;
  /** How long the worker may take to listen before it is killed, ms; default DEFAULT_LISTEN_TIMEOUT_MS. */
  listenTimeoutMs?: number;
}

export interface SpawnedWorker {
  pid: number;
  port: number;
  logFile: string;
  /** Rejects, with the worker's last words, if it exits while this hive runs. Never resolves. */
  exited: Promise<never>;
  /** Resolves with how the worker ended (`SIGKILL`, `code 1`) if it exits while this hive runs. */
  ended: Promise<string>;
}

export async function spawnWorker(options: SpawnWorkerOptions): Promise<SpawnedWorker> {
  const port = await findFreeLoopbackPort();
  options.signal?.throwIfAborted();
  await mkdir(options.logDir, { recursive: true });
  const logFile = workerLogFile(options.logDir, options.workerId);
  // Appending (O_APPEND): a log cut to size while the worker runs (worker-log-cap.ts) is written on
  // from its new end, not from where the worker's descriptor had got to.
  const logHandle = await open(logFile, "a");
  // Asked again after the awaits: a hive that began to stop meanwhile lists the workers it stops
  // from their processes, and one started after that would run on without it.
  if (options.signal?.aborted) {
    await logHandle.close();
    options.signal.throwIfAborted();
  }
  const args = [
    ...options.launch.args,
    ...workerLaunchArgs({
      modelPath: options.modelPath,
      modelName: options.modelName,
      workerId: options.workerId,
      port,
      hiveChannel: options.hiveChannel,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      threads: options.threads,
      parallel: options.parallel,
      pollUs: options.pollUs,
      gpu: options.gpu,
    }),
  ];
  // node:child_process, not execa: execa supervises children it waits for, and this one must be
  // left to run on its own (own process group, no pipes, unreferenced).
  const child = spawn(options.launch.command, args, {
    detached: true,
    stdio: ["ignore", logHandle.fd, logHandle.fd],
    env: workerEnv(process.env, options.gpu, options.deviceIndex, options.secret),
  });
  await logHandle.close(); // the child holds its own copy of the descriptor
  const pid = child.pid;
  if (pid === undefined) {
    const failure = await new Promise<Error>((resolve) => child.once("error", resolve));
    throw new RbeeError(500, "spawn_failed", `could not start ${options.launch.command}: ${failure.message}`);
  }
  child.unref();
  let exit: string | undefined;
  const ended = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = signal ?? `code ${code}`;
      options.log(`worker ${options.workerId} (pid ${pid}) exited: ${exit}; its log is ${logFile}`);
      resolve(exit);
    });
  });
  const exited = ended.then(async (how): Promise<never> => {
    throw new RbeeError(502, "worker_exited", `worker exited (${how}): ${await lastWords(logFile)} (log: ${logFile})`);
  });
  exited.catch(() => {}); // only a spawn job still waiting on the worker cares

  const listenTimeoutMs = options.listenTimeoutMs ?? DEFAULT_LISTEN_TIMEOUT_MS;
  const deadline = Date.now() + listenTimeoutMs;
  for (;;) {
    const text = await readFile(logFile, "utf8").catch(() => "");
    if (listeningPortIn(text) !== undefined) return { pid, port, logFile, exited, ended };
    if (exit !== undefined) {
      throw new RbeeError(502, "worker_failed_to_start", `worker exited (${exit}) before listening: ${await lastWords(logFile)} (log: ${logFile})`);
    }
    if (options.signal?.aborted || Date.now() > deadline) {
      process.kill(pid, "SIGKILL"); // not serving anyone yet: nothing to drain
      options.signal?.throwIfAborted();
      throw new RbeeError(504, "worker_start_timeout", `worker did not listen within ${listenTimeoutMs} ms (it listens before loading its model); see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, LOG_POLL_MS));
  }
}
