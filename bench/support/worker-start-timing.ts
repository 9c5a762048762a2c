// Times one worker start for bench/worker-start.ts: spawn → `listening` line on stdout, and
// spawn → the heartbeats the hive channel receives. The worker is stopped before this returns,
// whether the start succeeded or not.
import type { WorkerLaunch } from "../../hive/processes/spawn-worker.js";
import type { HeartbeatRecorder } from "./heartbeat-recorder.js";
import { WorkerProcess } from "./worker-process.js";

/**
 * How long after its ready line a worker may take to deliver its `ready` heartbeat, in ms.
 * The worker turns ready just before it prints the line, so this only catches a broken channel.
 */
const READY_AFTER_LISTENING_MS = 10_000;

export interface StartTiming {
  /** Spawn → the worker's `{"event":"listening"}` line read from its stdout, in ms. */
  listeningMs: number;
  /** Spawn → its first heartbeat (state `loading`: the worker runs its own code), in ms. */
  firstHeartbeatMs: number;
  /** Spawn → its first `ready` heartbeat, what the hive waits for before it routes requests, in ms. */
  readyMs: number;
}

export interface TimeWorkerStartOptions {
  launch: WorkerLaunch;
  modelPath: string;
  threads: number;
  /** Unique per start, so heartbeats of a worker still shutting down cannot be mistaken for it. */
  workerId: string;
  recorder: HeartbeatRecorder;
  signal: AbortSignal;
}

export async function timeWorkerStart(options: TimeWorkerStartOptions): Promise<StartTiming> {
  const { recorder, workerId } = options;
  const worker = await WorkerProcess.start({
    modelPath: options.modelPath,
    threads: options.threads,
    launch: options.launch,
    workerId,
    hiveChannel: recorder.url,
  });
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    const rejected = recorder.rejected.length === 0 ? "" : `; the channel refused: ${recorder.rejected.join(" | ")}`;
    timeout.abort(new Error(`worker ${workerId} listened but sent no ready heartbeat within ${READY_AFTER_LISTENING_MS} ms${rejected}`));
  }, READY_AFTER_LISTENING_MS);
  const signal = AbortSignal.any([options.signal, timeout.signal]);
  try {
    const [first, ready] = await Promise.all([recorder.first(workerId, undefined, signal), recorder.first(workerId, "ready", signal)]);
    return {
      listeningMs: worker.listeningAt - worker.spawnedAt,
      firstHeartbeatMs: first.arrivedAt - worker.spawnedAt,
      readyMs: ready.arrivedAt - worker.spawnedAt,
    };
  } finally {
    clearTimeout(timer);
    await worker.stop();
  }
}
