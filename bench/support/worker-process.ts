// Starts the real worker process (worker/main.ts, or a build of it) for the benchmarks, waits
// until it serves, and stops it with SIGTERM the way the hive does.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { WorkerLaunch } from "../../hive/processes/spawn-worker.js";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { readyLine, waitForListeningLine, waitForReadyLine } from "../../shared/protocol/listening-line.js";
import { WORKER_SECRET_ENV, workerLaunchArgs } from "../../shared/protocol/worker-launch.js";
import { stopChild } from "./stop-child.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** How long the worker may take to load the model and listen, in ms; real models load slowly. */
const START_TIMEOUT_MS = 120_000;
/** How long SIGTERM may take (the worker drains, then frees llama.cpp) before SIGKILL, in ms. */
const STOP_TIMEOUT_MS = 10_000;
/** How much of the worker's stderr is kept to explain a failed start, in characters. */
const STDERR_TAIL_CHARS = 4000;

/** The worker from its TypeScript sources, as the hive started it before the worker catalog. */
export const TSX_LAUNCH: WorkerLaunch = { command: process.execPath, args: ["--import", "tsx", "worker/main.ts"] };

export interface WorkerProcessOptions {
  modelPath: string;
  threads: number;
  /** How to start the worker, run from the repository root; default TSX_LAUNCH. */
  launch?: WorkerLaunch;
  /** `--worker-id`; default `wrk_bench1`. */
  workerId?: string;
  /** `--hive-channel` for its heartbeats; default none, so it sends none. */
  hiveChannel?: string;
  /** `--parallel` slots; default the worker's own. */
  parallel?: number;
  /** `--llama-build`: a llama.cpp build's folder; default node-llama-cpp's prebuilt binary. */
  llamaBuild?: string | undefined;
  /** `--poll-us`; default the worker's own. */
  pollUs?: number;
}

export class WorkerProcess {
  /** Spawns the worker on a free port and resolves once it prints its `ready` event (it listens earlier, before loading). */
  static async start(options: WorkerProcessOptions): Promise<WorkerProcess> {
    const port = await findFreeLoopbackPort();
    const launch = options.launch ?? TSX_LAUNCH;
    const args = [
      ...launch.args,
      ...workerLaunchArgs({
        modelPath: options.modelPath,
        modelName: "bench",
        workerId: options.workerId ?? "wrk_bench1",
        port,
        threads: options.threads,
        parallel: options.parallel,
        gpu: "cpu",
        hiveChannel: options.hiveChannel,
        llamaBuild: options.llamaBuild,
        pollUs: options.pollUs,
      }),
    ];
    // The secret the hive would give it; every request must carry it (worker/access-guard.ts).
    const secret = randomBytes(32).toString("hex");
    const spawnedAt = performance.now();
    const child = spawn(launch.command, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, [WORKER_SECRET_ENV]: secret } });
    const worker = new WorkerProcess(child, `http://127.0.0.1:${port}`, `Bearer ${secret}`, spawnedAt);
    try {
      await worker.waitUntilServing(port);
    } catch (error) {
      await worker.stop();
      throw error;
    }
    return worker;
  }

  private listenedAt = Number.NaN;
  private stderrTail = "";
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    /** Base URL of the worker's HTTP API. */
    readonly url: string,
    /** The `Authorization` header its API requires. */
    readonly authorization: string,
    /** performance.now() just before the process was spawned. */
    readonly spawnedAt: number,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.stderr?.on("data", (data: Buffer) => {
      this.stderrTail = (this.stderrTail + data.toString()).slice(-STDERR_TAIL_CHARS);
    });
  }

  /** performance.now() when its listening line arrived; NaN before. */
  get listeningAt(): number {
    return this.listenedAt;
  }

  /** SIGTERM, then SIGKILL if the worker has not exited within STOP_TIMEOUT_MS. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= stopChild(this.child, this.exited, STOP_TIMEOUT_MS);
    return this.stopping;
  }

  private waitUntilServing(port: number): Promise<void> {
    const expected = readyLine(port);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker did not print ${expected} within ${START_TIMEOUT_MS} ms: ${this.stderrTail}`)),
        START_TIMEOUT_MS,
      );
      if (this.child.stdout) {
        void waitForListeningLine(this.child.stdout).then(() => (this.listenedAt = performance.now()));
        void waitForReadyLine(this.child.stdout).then((readyPort) => {
          clearTimeout(timer);
          if (readyPort === port) resolve();
          else reject(new Error(`worker says it serves on ${readyPort}, not ${port}`));
        });
      }
      this.child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (${signal ?? `code ${code}`}) before serving: ${this.stderrTail.trim()}`));
      });
      this.child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }
}
