// Which worker a request goes to, decided from the queen's own bookkeeping: a ready worker of the
// model with a lease slot free, the one that holds the conversation's turn before when it has one
// free (prompt-affinity.ts), else fewest requests the queen has in flight on it first (not the
// slots_busy of its last heartbeat, which a burst between two heartbeats never sees), then the
// higher recent tokens/s. The Dispatcher calls it for every request it takes off a queue.
import { isServingState } from "../../shared/protocol/worker-heartbeat.js";
import type { LiveWorker } from "./contracts.js";

export interface PlacementView {
  /** Requests the queen has leased to this worker and not yet seen end. */
  inFlight(workerId: string): number;
  /** A worker that failed a request a moment ago (LeaseEnd `worker_failed`). */
  cooling(workerId: string): boolean;
}

export interface PlacementAsk {
  /** `model@hive`: only this hive's workers. */
  hive?: string | undefined;
  /** Workers that already failed this request. */
  excludeWorkerIds?: readonly string[] | undefined;
}

/** A worker that answers requests. */
export function isServing(worker: LiveWorker): boolean {
  return isServingState(worker.state);
}

/** Leases a worker may hold: its slots, so the worker's own queue stays empty and the queen keeps the rest. */
export function leaseCapacity(worker: LiveWorker): number {
  // A serving worker that reports no slots still answers one request at a time.
  return Math.max(1, worker.slotsTotal);
}

/**
 * The serving workers that may take `ask` at all, free or not. A cooling worker is left out while
 * a healthy one remains: the request waits for the healthy one rather than meet the same failure.
 * When every worker is cooling they stay in: a sick worker is still better than certain refusal.
 */
export function eligibleWorkers(workers: readonly LiveWorker[], ask: PlacementAsk, view: PlacementView): LiveWorker[] {
  const excluded = new Set(ask.excludeWorkerIds ?? []);
  const eligible = workers.filter(
    (worker) => isServing(worker) && !excluded.has(worker.workerId) && (ask.hive === undefined || worker.hiveName === ask.hive),
  );
  const healthy = eligible.filter((worker) => !view.cooling(worker.workerId));
  return healthy.length > 0 ? healthy : eligible;
}

/**
 * The best worker with a free lease slot for `ask`, or undefined when every one is full.
 * `preferred`: the worker to take while it has a lease slot free (its slot holds the prompt's start).
 */
export function chooseWorker(workers: readonly LiveWorker[], ask: PlacementAsk, view: PlacementView, preferred?: string): LiveWorker | undefined {
  let best: LiveWorker | undefined;
  let bestInFlight = 0;
  for (const worker of eligibleWorkers(workers, ask, view)) {
    const inFlight = view.inFlight(worker.workerId);
    if (inFlight >= leaseCapacity(worker)) continue;
    if (worker.workerId === preferred) return worker;
    const better =
      best === undefined || inFlight < bestInFlight || (inFlight === bestInFlight && worker.tokensPerSecond > best.tokensPerSecond);
    if (better) {
      best = worker;
      bestInFlight = inFlight;
    }
  }
  return best;
}
