// One call to the hub's API (a repo's file list, a file's facts), asked again as downloads are: an
// answer of 429 or 5xx, a connection refused or reset, and an answer that does not come within
// `timeoutMs` are tried again, after the server's Retry-After or a jittered 1 s, then 2 s, up to `attempts`
// times. A hub that took the connection and never answered held a job for five minutes (undici's
// headers timeout) and then failed it naming neither host nor step; one 503 failed it at once.
import { abortableSleep } from "../../../shared/abortable-sleep.js";
import { backoffDelayMs } from "../../../shared/backoff.js";
import { describeError, RbeeError } from "../../../shared/errors.js";
import { isTransientStatus, retryAfterMs } from "../download/transient-status.js";

export interface HubCallTiming {
  attempts: number;
  /** The most one try may take, answer and body together, ms. */
  timeoutMs: number;
  /** The wait before the second try when the server names none (jittered), doubled after each, ms. */
  retryBaseMs: number;
}

export const HUB_CALL_DEFAULTS: HubCallTiming = { attempts: 3, timeoutMs: 30_000, retryBaseMs: 1_000 };
/** The longest wait between two tries when the hub names none, ms. */
const HUB_RETRY_MAX_MS = 10_000;

/**
 * The hub's answer to `url`: the first that is not worth asking again, or the last try's. A call
 * that never got an answer ends in `model_source_unavailable`, naming the host and `what` it asked.
 */
export async function hubCall(url: string, init: RequestInit, signal: AbortSignal, what: string, timing: HubCallTiming = HUB_CALL_DEFAULTS): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const timeout = AbortSignal.timeout(timing.timeoutMs);
    let response: Response | undefined;
    try {
      // The timeout stays on the answer's body too: a page read to its end within it.
      response = await fetch(url, { ...init, signal: AbortSignal.any([signal, timeout]) });
      if (!isTransientStatus(response.status) || attempt >= timing.attempts) return response;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (attempt >= timing.attempts) {
        const failure = timeout.aborted ? `did not answer within ${timing.timeoutMs / 1000} s` : `could not be reached (${describeError(error)})`;
        throw new RbeeError(503, "model_source_unavailable", `${new URL(url).origin} ${failure} when asked for ${what}, ${attempt} times; check this machine's network and HF_ENDPOINT, then ask again`, { cause: error });
      }
    }
    const waitMs = retryAfterMs(response?.headers.get("retry-after")) ?? backoffDelayMs(attempt - 1, { baseMs: timing.retryBaseMs, maxMs: HUB_RETRY_MAX_MS });
    await response?.body?.cancel().catch(() => {});
    await abortableSleep(waitMs, signal);
  }
}
