// Idle unload: a worker with no request in flight for longer than its keep-alive is stopped
// through its hive, so its memory goes back to placement. The keep-alive is the queen's default
// (KEEP_ALIVE_SECONDS), or what the last request served on that worker asked for with
// `keep_alive` (0: unload once answered; negative: never), else the model's policy
// (keep_alive_seconds). A policy's min_workers are never unloaded: of a model's workers, the
// min_workers most recently used stay (they are not due, and set no alarm). The Registry's alarm calls `due` with
// the live workers and the dispatcher's activity, stops what it returns, and sets its next alarm
// no later than `nextDueAtMs`.
import type { LiveWorker } from "./contracts.js";
import { type ModelPolicy, policyKeepAliveMs } from "./model-policy.js";
import type { WorkerActivity } from "./swap-policy.js";

export interface IdleContext {
  activity: (worker: LiveWorker) => WorkerActivity | undefined;
  /** Requests waiting in the queen's queue for a model: a worker with work waiting is not idle. */
  queued: (model: string) => number;
  nowMs: number;
}

/** Keep-alives requested per worker; memory only, bounded by the live workers it is told of. */
export class IdleReaper {
  private readonly requested = new Map<string, number>();

  constructor(
    private readonly defaultKeepAliveMs: number,
    private readonly policyOf: (model: string) => ModelPolicy | undefined = () => undefined,
  ) {}

  /** A request on `workerId` ended; `keepAliveMs` is what it asked for (undefined: nothing, the previous ask stands). */
  requestEnded(workerId: string, keepAliveMs: number | undefined): void {
    if (keepAliveMs !== undefined) this.requested.set(workerId, keepAliveMs);
  }

  /** What requests on `workerId` asked for, if any did. */
  askedKeepAliveMs(workerId: string): number | undefined {
    return this.requested.get(workerId);
  }

  /** The worker went: forget what was asked for it. */
  forget(workerId: string): void {
    this.requested.delete(workerId);
  }

  /** What the last request asked for, else the model's policy, else the queen's default. */
  keepAliveMs(workerId: string, model?: string): number {
    return this.requested.get(workerId) ?? policyKeepAliveMs(model === undefined ? undefined : this.policyOf(model)) ?? this.defaultKeepAliveMs;
  }

  /** Ready workers idle past their keep-alive: stop them. */
  due(workers: LiveWorker[], context: IdleContext): LiveWorker[] {
    const kept = this.keptByPolicy(workers, context);
    return workers.filter((worker) => {
      if (kept.has(worker.workerId)) return false;
      const idleSince = this.idleSinceMs(worker, context);
      return idleSince !== undefined && context.nowMs - idleSince >= this.keepAliveMs(worker.workerId, worker.model);
    });
  }

  /** When the next worker becomes due (for the alarm), or undefined when none will on its own. */
  nextDueAtMs(workers: LiveWorker[], context: IdleContext): number | undefined {
    let next: number | undefined;
    const kept = this.keptByPolicy(workers, context);
    for (const worker of workers) {
      if (kept.has(worker.workerId)) continue;
      const idleSince = this.idleSinceMs(worker, context);
      const keepAlive = this.keepAliveMs(worker.workerId, worker.model);
      if (idleSince === undefined || keepAlive === Number.POSITIVE_INFINITY) continue;
      const at = idleSince + keepAlive;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** The workers a policy's min_workers keep: per model, the busy or loading ones first, then the most recently used. */
  private keptByPolicy(workers: LiveWorker[], context: IdleContext): Set<string> {
    const kept = new Set<string>();
    const byModel = new Map<string, LiveWorker[]>();
    for (const worker of workers) byModel.set(worker.model, [...(byModel.get(worker.model) ?? []), worker]);
    for (const [model, ofModel] of byModel) {
      const min = this.policyOf(model)?.minWorkers ?? 0;
      if (min === 0) continue;
      const recency = (worker: LiveWorker) => this.idleSinceMs(worker, context) ?? Number.POSITIVE_INFINITY;
      for (const worker of [...ofModel].sort((a, b) => recency(b) - recency(a)).slice(0, min)) kept.add(worker.workerId);
    }
    return kept;
  }

  /** Since when the worker has been idle, or undefined while it is in use, loading or unknown. */
  private idleSinceMs(worker: LiveWorker, context: IdleContext): number | undefined {
    if (worker.state !== "ready") return undefined;
    const activity = context.activity(worker);
    if (!activity || activity.inFlight > 0 || context.queued(worker.model) > 0) return undefined;
    return activity.lastActiveAtMs;
  }
}
