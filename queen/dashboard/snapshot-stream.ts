// The body of GET /v1/dashboard/events: Server-Sent Events carrying a fresh snapshot every
// SNAPSHOT_INTERVAL_MS while it changed, and a comment line now and then while it did not, so
// proxies keep the connection. The stream is pulled: a snapshot is built only when the reader
// has taken the last one, so a stalled tab costs nothing, and a closed tab (the stream cancelled,
// or the request's signal aborted) ends the loop at once. It also ends after MAX_STREAM_MS; the
// page reconnects, which re-checks its key. The key is asked after again every STANDING_CHECK_MS
// meanwhile: a revoked admin's open tab stops getting the fleet within that, told why.
import { abortableSleep } from "../../shared/abortable-sleep.js";
import { DASHBOARD_EVENTS, type DashboardSnapshot } from "../../shared/dashboard/dashboard-snapshot.js";
import { describeError, type RbeeError } from "../../shared/errors.js";

export const SNAPSHOT_INTERVAL_MS = 1500;
/** With no change, a keep-alive comment goes out this often (ms). */
const KEEP_ALIVE_MS = 15_000;
/** One stream lasts at most this long (ms). */
export const MAX_STREAM_MS = 10 * 60_000;
/** How often the key that opened the stream is checked again (ms). */
export const STANDING_CHECK_MS = 10_000;

const encoder = new TextEncoder();

export interface KeyCheck {
  /** Why the stream's key no longer admits it (revoked, expired), or undefined while it does. */
  standing: () => Promise<RbeeError | undefined>;
  /** How often it is asked, ms (STANDING_CHECK_MS). */
  everyMs?: number;
}

export function snapshotStream(build: () => Promise<DashboardSnapshot>, requestSignal: AbortSignal, key: KeyCheck): ReadableStream<Uint8Array> {
  const checkEveryMs = key.everyMs ?? STANDING_CHECK_MS;
  const stop = new AbortController();
  const onRequestAbort = () => stop.abort();
  requestSignal.addEventListener("abort", onRequestAbort, { once: true });
  const endsAtMs = Date.now() + MAX_STREAM_MS;
  let last: string | undefined;
  let lastSentMs = 0;
  let checkedAtMs = Date.now(); // the route's authentication was the first check
  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    requestSignal.removeEventListener("abort", onRequestAbort);
    stop.abort();
    controller.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Each pull sends one thing; the first goes at once, later ones an interval apart.
        for (;;) {
          if (stop.signal.aborted || Date.now() >= endsAtMs) return end(controller);
          if (last !== undefined) {
            try {
              await abortableSleep(SNAPSHOT_INTERVAL_MS, stop.signal);
            } catch {
              return end(controller);
            }
          }
          if (Date.now() - checkedAtMs >= checkEveryMs) {
            checkedAtMs = Date.now();
            const refusal = await key.standing().catch(() => undefined); // D1 unreachable: not the key's fault
            if (refusal) {
              controller.enqueue(encoder.encode(sseEvent(DASHBOARD_EVENTS.problem, JSON.stringify({ message: refusal.message, code: refusal.code }))));
              return end(controller);
            }
          }
          const next = await build().then(
            ({ at, ...state }) => ({ key: JSON.stringify(state), text: sseEvent(DASHBOARD_EVENTS.snapshot, JSON.stringify({ at, ...state })) }),
            (error: unknown) => {
              const text = sseEvent(DASHBOARD_EVENTS.problem, JSON.stringify({ message: `The queen could not read its state: ${describeError(error)}` }));
              return { key: text, text };
            },
          );
          if (stop.signal.aborted) return end(controller);
          const nowMs = Date.now();
          // The build time alone does not make a snapshot new.
          if (next.key !== last) {
            last = next.key;
            lastSentMs = nowMs;
            controller.enqueue(encoder.encode(next.text));
            return;
          }
          if (nowMs - lastSentMs >= KEEP_ALIVE_MS) {
            lastSentMs = nowMs;
            controller.enqueue(encoder.encode(": still here\n\n"));
            return;
          }
        }
      },
      cancel() {
        requestSignal.removeEventListener("abort", onRequestAbort);
        stop.abort();
      },
    },
    { highWaterMark: 0 },
  );
}

function sseEvent(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}
