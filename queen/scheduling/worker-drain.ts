// Waiting for a worker to drain: a busy worker stopped to make room for a starving model
// (swap-policy.ts) takes no new request and is stopped only once the requests in flight on it have
// ended, never mid-answer. The swap is given up instead (the worker serves again) when the model
// it made room for has no request waiting any more (its clients left, or their deadlines passed),
// or when the wait outlasts any request's deadline (a lease that never came back).
import { MAX_REQUEST_TIMEOUT_SECONDS } from "../../shared/openai/inference-headers.js";

/** How often a drain looks again, ms: leases end and queues empty in the Registry, which has no event for the second. */
const DRAIN_POLL_MS = 200;
/** The longest any request holds a worker (its deadline, at most MAX_REQUEST_TIMEOUT_SECONDS), and a minute more. */
export const DRAIN_LIMIT_MS = (MAX_REQUEST_TIMEOUT_SECONDS + 60) * 1000;

export interface DrainView {
  /** Requests in flight on the worker. */
  leasesOn(workerId: string): number;
  /** Requests waiting for the model. */
  queued(model: string): number;
  /** Whether the worker is still in the live table. */
  isLive(workerId: string): boolean;
}

export type DrainOutcome = { drained: true } | { drained: false; why: string };

/** Resolves once `workerId` has no request in flight (or is gone), or says why the swap is given up. */
export function drainFor(view: DrainView, workerId: string, forModel: string, limitMs = DRAIN_LIMIT_MS): Promise<DrainOutcome> {
  const giveUpAtMs = Date.now() + limitMs;
  return new Promise((resolve) => {
    const look = () => {
      if (!view.isLive(workerId) || view.leasesOn(workerId) === 0) return resolve({ drained: true });
      if (view.queued(forModel) === 0) return resolve({ drained: false, why: `no request for '${forModel}' waits any more` });
      if (Date.now() >= giveUpAtMs) return resolve({ drained: false, why: `its requests were still in flight after ${Math.round(limitMs / 1000)} s` });
      setTimeout(look, DRAIN_POLL_MS);
    };
    look();
  });
}
