// Lets a spawn job follow its worker's heartbeats on the local channel until the model is loaded
// (ready) or the worker gave up (failed, with its reason). Loading has no deadline: a load fails
// only when the worker goes silent, or when its load progress stops moving for a while (stalled);
// a slow load that keeps making progress is waited for however long it takes. The hive keeps no registry: this only
// fans heartbeats out to the jobs waiting on them, and remembers the last few it saw, because a
// small model can be ready before its spawn job has noticed that the worker listens. The request
// relay reads the same memory to check that a port the queen names is still that worker's.
import { RbeeError } from "../../shared/errors.js";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";

type Waiter = (heartbeat: WorkerHeartbeat) => void;

export interface WaitOptions {
  signal: AbortSignal;
  /** How long the worker may go without a heartbeat before it counts as dead, ms. */
  silenceMs: number;
  /** How long its load progress may stand still before the load counts as stalled, ms. */
  stallMs: number;
  /** Each `loading` heartbeat, to report progress. */
  onLoading: (heartbeat: WorkerHeartbeat) => void;
}

/** A worker's latest heartbeat and when this hive received it (Date.now()). */
export interface HeardHeartbeat {
  heartbeat: WorkerHeartbeat;
  receivedAt: number;
  /** Set once its process is seen to have ended. */
  exited?: true;
}

/**
 * Workers whose last heartbeat is remembered (a Map keeps insertion order: the one silent longest
 * goes first); far more than one machine runs, since a forgotten live worker cannot be relayed to.
 */
const REMEMBERED_WORKERS = 1024;

export class WorkerReadiness {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly latest = new Map<string, HeardHeartbeat>();

  /** Called for every heartbeat the local channel accepts. */
  observe(heartbeat: WorkerHeartbeat): void {
    this.latest.delete(heartbeat.workerId);
    this.latest.set(heartbeat.workerId, { heartbeat, receivedAt: Date.now() });
    if (this.latest.size > REMEMBERED_WORKERS) this.latest.delete(this.latest.keys().next().value ?? "");
    for (const waiter of this.waiters.get(heartbeat.workerId) ?? []) waiter(heartbeat);
  }

  /** The worker's latest heartbeat, if this hive has heard one (since it started). */
  lastHeard(workerId: string): HeardHeartbeat | undefined {
    return this.latest.get(workerId);
  }

  /** The worker's process ended (worker-exits.ts): it is not live, whatever it said last. */
  exited(workerId: string): void {
    const heard = this.latest.get(workerId);
    if (heard) heard.exited = true;
  }

  /**
   * The workers this hive has, as its hello lists them: heard within `silentLimitMs` and neither
   * stopped, failed nor exited, plus those of `running` (found as processes when the hive
   * started) it has not heard from yet, since a worker re-attaches to a restarted hive at its
   * next heartbeat.
   */
  liveWorkerIds(silentLimitMs: number, running: Iterable<string> = []): string[] {
    const now = Date.now();
    const live = new Set<string>();
    for (const [workerId, { heartbeat, receivedAt, exited }] of this.latest) {
      if (now - receivedAt <= silentLimitMs && heartbeat.state !== "stopped" && heartbeat.state !== "failed" && !exited) live.add(workerId);
    }
    for (const workerId of running) if (!this.latest.has(workerId)) live.add(workerId);
    return [...live];
  }

  /**
   * Resolves with the first `ready` heartbeat of the worker; rejects with the worker's own reason
   * when it reports `failed`, when it stops heartbeating for `silenceMs` (it died or hangs), or
   * when its `loadProgress` does not rise for `stallMs` (its load is stuck: a hung disk or device).
   */
  waitUntilReady(workerId: string, options: WaitOptions): Promise<WorkerHeartbeat> {
    return new Promise((resolve, reject) => {
      let silence: NodeJS.Timeout | undefined;
      let stall: NodeJS.Timeout | undefined;
      /** The highest fraction loaded heard so far; the stall window restarts whenever it rises. */
      let progress = 0;
      const armSilence = () => {
        clearTimeout(silence);
        silence = setTimeout(
          () => finish(() => reject(new RbeeError(502, "worker_failed_to_load", `worker ${workerId} stopped heartbeating for ${options.silenceMs} ms while loading; see its log`))),
          options.silenceMs,
        );
      };
      const armStall = () => {
        clearTimeout(stall);
        stall = setTimeout(() => finish(() => reject(stalled(workerId, options.stallMs, progress))), options.stallMs);
      };
      const waiter: Waiter = (heartbeat) => {
        armSilence();
        switch (heartbeat.state) {
          case "ready":
          case "busy":
            finish(() => resolve(heartbeat));
            return;
          case "failed":
            finish(() => reject(new RbeeError(502, "worker_failed_to_load", `worker ${workerId} could not load its model: ${heartbeat.failure ?? "no reason given"}`)));
            return;
          case "draining":
          case "stopped":
            finish(() => reject(new RbeeError(502, "worker_failed_to_load", `worker ${workerId} is ${heartbeat.state} before it became ready`)));
            return;
          case "loading":
            if ((heartbeat.loadProgress ?? 0) > progress) {
              progress = heartbeat.loadProgress ?? progress;
              armStall();
            }
            options.onLoading(heartbeat);
            return;
          default: {
            const unreachable: never = heartbeat.state;
            throw new Error(`unknown worker state ${String(unreachable)}`);
          }
        }
      };
      const onAbort = () => finish(() => reject(options.signal.reason));
      const finish = (settle: () => void) => {
        clearTimeout(silence);
        clearTimeout(stall);
        options.signal.removeEventListener("abort", onAbort);
        this.waiters.get(workerId)?.delete(waiter);
        if (this.waiters.get(workerId)?.size === 0) this.waiters.delete(workerId);
        settle();
      };
      if (options.signal.aborted) {
        reject(options.signal.reason);
        return;
      }
      options.signal.addEventListener("abort", onAbort, { once: true });
      const set = this.waiters.get(workerId) ?? new Set<Waiter>();
      set.add(waiter);
      this.waiters.set(workerId, set);
      armSilence();
      armStall();
      const seen = this.latest.get(workerId);
      if (seen) waiter(seen.heartbeat); // it may have said ready (or failed) before anyone was waiting
    });
  }
}

function stalled(workerId: string, stallMs: number, progress: number): RbeeError {
  const waited = stallMs < 10_000 ? `${stallMs} ms` : `${Math.round(stallMs / 1000)} s`;
  return new RbeeError(
    504,
    "worker_load_stalled",
    `worker ${workerId} made no loading progress for ${waited} (stuck at ${Math.floor(progress * 100)}% loaded), as a hung disk or GPU driver does; see its log, or allow longer with the hive's --worker-load-stall-ms`,
  );
}
