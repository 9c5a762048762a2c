// A streamed answer still running when its request's deadline (X-Request-Timeout) passes is cut
// there: the client gets a terminal `request_timeout` error event (never a silent end, which would
// read as a short answer) and the stream's source is cancelled, which tells the hive to stop the
// generation on the worker. Answers that are not event streams are left alone: their head comes
// only once the worker is done, and leased-relay.ts bounds the wait for the head by the deadline.
import { openAiErrorBody } from "../../shared/errors.js";
import { EVENT_END } from "../../shared/protocol/relay-flow.js";
import { isEventStream } from "../http/event-stream.js";
import { sseEvent } from "./stream-event.js";

/** The code of the error event that ends a stream at its deadline. */
export const REQUEST_TIMEOUT = "request_timeout";

/** `response` with its event stream ended at `deadlineMs` (unix ms); other responses unchanged. */
export function endAtDeadline(response: Response, deadlineMs: number): Response {
  if (!isEventStream(response) || response.body === null) return response;
  return new Response(cutAtDeadline(response.body, deadlineMs), { status: response.status, headers: response.headers });
}

function cutAtDeadline(source: ReadableStream<Uint8Array>, deadlineMs: number): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  /** The last bytes the client got, as text: the error event may only go between two events. */
  let tail = "";
  let due = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), Math.max(0, deadlineMs - Date.now()));
  });
  /** A read that lost the race with the deadline: the next pull takes its chunk, never drops it. */
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;

  const finish = async (controller: ReadableStreamDefaultController<Uint8Array>, rest = ""): Promise<void> => {
    const message = "The answer was cut off because the request's deadline (X-Request-Timeout) passed; ask for fewer tokens or allow more time.";
    controller.enqueue(encoder.encode(rest + sseEvent(JSON.stringify(openAiErrorBody(504, REQUEST_TIMEOUT, message)))));
    controller.close();
    await reader.cancel(new Error("the request's deadline passed")).catch(() => {});
  };
  const atEventEnd = () => tail === "" || tail.endsWith(EVENT_END);

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (due && atEventEnd()) return finish(controller);
        pending ??= reader.read();
        const next = due ? await pending : await Promise.race([pending, deadline]);
        if (next === "deadline") {
          due = true;
          // Mid-event, the client first gets the rest of that event (the next pull).
          if (atEventEnd()) return finish(controller);
          return;
        }
        pending = undefined;
        if (next.done) {
          clearTimeout(timer);
          controller.close();
          return;
        }
        const text = decoder.decode(next.value, { stream: true });
        const end = due ? (tail + text).indexOf(EVENT_END) : -1;
        // Past the deadline mid-event: the rest of that event, then the error.
        if (end >= 0) return finish(controller, text.slice(0, end + EVENT_END.length - tail.length));
        tail = (tail + text).slice(-EVENT_END.length);
        controller.enqueue(next.value);
      },
      async cancel(reason) {
        clearTimeout(timer);
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
