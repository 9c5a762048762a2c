// Which loaded workers may be stopped to make room for another model, so that swapping never
// thrashes: only a worker of ANOTHER model, ready, with no request in flight on it and none
// queued for its model (its queue is served before anything is swapped out), loaded for at
// least the minimum residency (a model just loaded is never evicted by the next one in line:
// no ping-pong), least recently used first.
//
// A model whose requests have waited past SWAP_DRAIN_AFTER_SECONDS is starving: another model's
// steady traffic would otherwise keep it out for ever. For it, busy workers qualify too, after
// every idle one; such a worker is drained (it takes no new request and finishes those it has)
// before it stops. The minimum residency still holds, so two busy models take turns on a device
// no faster than once per SWAP_MIN_RESIDENCY_SECONDS.
import type { LiveWorker } from "./contracts.js";

/** What the dispatcher knows of a worker's use; the planner never guesses it. */
export interface WorkerActivity {
  /** Requests the queen has in flight on it now. */
  inFlight: number;
  /** When it last served a request (or became ready, if it never did), Unix ms. */
  lastActiveAtMs: number;
  /** Since when it has been loaded (first seen ready), Unix ms. */
  residentSinceMs: number;
}

export interface SwapRules {
  /** Least time a worker stays loaded before it may be swapped out, ms. */
  minResidencyMs: number;
}

export const DEFAULT_SWAP_RULES: SwapRules = { minResidencyMs: 60_000 };

export interface SwapContext {
  /** The model the room is for: its own workers are never stopped for it. */
  model: string;
  activity: (worker: LiveWorker) => WorkerActivity | undefined;
  /** Requests waiting in the queen's queue for `model`. */
  queued: (model: string) => number;
  nowMs: number;
  rules?: SwapRules;
  /** The room is for a starving model: busy workers may be drained for it, after the idle ones. */
  drainBusy?: boolean;
}

/** The workers that may be stopped now: idle ones least recently used first, then (draining) busy ones alike. */
export function swapCandidates<T extends { worker: LiveWorker }>(residents: T[], context: SwapContext): Array<T & { busy: boolean }> {
  const { minResidencyMs } = context.rules ?? DEFAULT_SWAP_RULES;
  const eligible: Array<{ resident: T; busy: boolean; lastActiveAtMs: number }> = [];
  for (const resident of residents) {
    const { worker } = resident;
    if (worker.model === context.model || worker.state !== "ready") continue;
    // Unknown activity is not idleness: a worker the dispatcher never saw is left alone.
    const activity = context.activity(worker);
    if (!activity) continue;
    const busy = activity.inFlight > 0 || context.queued(worker.model) > 0;
    if (busy && context.drainBusy !== true) continue;
    if (context.nowMs - activity.residentSinceMs < minResidencyMs) continue;
    eligible.push({ resident, busy, lastActiveAtMs: activity.lastActiveAtMs });
  }
  return eligible
    .sort((a, b) => Number(a.busy) - Number(b.busy) || a.lastActiveAtMs - b.lastActiveAtMs)
    .map(({ resident, busy }) => ({ ...resident, busy }));
}
