// Which loaded workers may be stopped to make room for another model, so that swapping never
// thrashes: only a worker of ANOTHER model, ready, with no request in flight on it and none
// queued for its model (its queue is served before anything is swapped out), loaded for at
// least the minimum residency (a model just loaded is never evicted by the next one in line:
// no ping-pong), least recently used first.
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
}

/** The workers that may be stopped now, least recently used first. */
export function swapCandidates<T extends { worker: LiveWorker }>(residents: T[], context: SwapContext): T[] {
  const { minResidencyMs } = context.rules ?? DEFAULT_SWAP_RULES;
  const eligible: Array<{ resident: T; lastActiveAtMs: number }> = [];
  for (const resident of residents) {
    const { worker } = resident;
    if (worker.model === context.model || worker.state !== "ready") continue;
    // Unknown activity is not idleness: a worker the dispatcher never saw is left alone.
    const activity = context.activity(worker);
    if (!activity || activity.inFlight > 0 || context.queued(worker.model) > 0) continue;
    if (context.nowMs - activity.residentSinceMs < minResidencyMs) continue;
    eligible.push({ resident, lastActiveAtMs: activity.lastActiveAtMs });
  }
  return eligible.sort((a, b) => a.lastActiveAtMs - b.lastActiveAtMs).map(({ resident }) => resident);
}
