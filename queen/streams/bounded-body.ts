// A relayed answer's body that is not an event stream, bounded in time as a stream is
// (spliced-stream.ts): its client has its head already, and waits for the rest. A worker writes
// such an answer whole once it is done, so a body that stops coming (a hive that sent the head and
// went quiet) would hold its client until the connection died. The body fails instead when a read
// of it waits `stallTimeoutMs` (the time a slow client takes to read does not count) or the
// request's deadline passes, and its source is cancelled, which tells the hive to stop.
//
// Only bodies that did not come back whole (hive-session/whole-answer.ts) pass here: long ones,
// or ones whose chunks came in more than one message. Its timer per read costs them nothing worth
// counting.
import { RbeeError } from "../../shared/errors.js";
import { FAILOVER_DEFAULTS, REQUEST_TIMEOUT } from "./spliced-stream.js";

export interface BodyBounds {
  /** Silence within the body that counts as a lost worker, in ms. Default FAILOVER_DEFAULTS.stallTimeoutMs. */
  stallTimeoutMs?: number;
  /** The request's deadline (unix ms, X-Request-Timeout). */
  deadlineMs: number;
}

export function boundedBody(source: ReadableStream<Uint8Array>, bounds: BodyBounds): ReadableStream<Uint8Array> {
  const stallTimeoutMs = bounds.stallTimeoutMs ?? FAILOVER_DEFAULTS.stallTimeoutMs;
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const leftMs = bounds.deadlineMs - Date.now();
        const cut = leftMs <= stallTimeoutMs ? deadlinePassed() : stalled(stallTimeoutMs);
        let expire: () => void = () => {};
        const outOfTime = new Promise<"out of time">((resolve) => {
          expire = () => resolve("out of time");
        });
        const timer = setTimeout(() => expire(), Math.max(0, Math.min(leftMs, stallTimeoutMs)));
        try {
          const read = await Promise.race([reader.read(), outOfTime]);
          if (read === "out of time") {
            controller.error(cut);
            await reader.cancel(cut).catch(() => {});
          } else if (read.done) controller.close();
          else controller.enqueue(read.value);
        } catch (error) {
          controller.error(error);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

function stalled(stallTimeoutMs: number): RbeeError {
  return new RbeeError(502, "worker_stalled", `The worker sent nothing more of its answer for ${stallTimeoutMs / 1000} s.`);
}

function deadlinePassed(): RbeeError {
  return new RbeeError(504, REQUEST_TIMEOUT, "The answer was cut off because the request's deadline (X-Request-Timeout, or its client's own timeout) passed.");
}
