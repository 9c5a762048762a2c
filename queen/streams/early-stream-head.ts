// A streamed request that waits for a worker (queued behind busy slots, or for one to load) gets
// its answer's head at once, 200 with an event stream, and an SSE comment every few seconds until
// a worker answers; then the worker's events follow in the same body. Only a response that has
// begun lets workerd notice its client leaving: while a handler is still pending, a client that
// gives up is not heard, and a queue full of such clients was placed one by one on the worker,
// each generating for nobody, while live clients were refused 429 `queue_full`. With the head out,
// a client that leaves cancels the body, which takes the request out of the queue at once.
//
// A refusal that comes after the head (the queue's timeout, no worker at all) is the stream's one
// event, `{"error": …}` as OpenAI streams it, which the official clients raise as an APIError.
// A stream placed within EARLY_HEAD_AFTER_MS is answered as before, with its status and headers.
import { openAiErrorBody, RbeeError } from "../../shared/errors.js";
import { withinMs } from "../../shared/within.js";
import { errorBodyOf } from "../client-errors/error-body.js";
import { isEventStream } from "../http/event-stream.js";

/** How long a stream waits for a worker before its head goes out, in ms. */
export const EARLY_HEAD_AFTER_MS = 1000;
/** How often a waiting stream's comment is written, in ms: a write is how a client that left is noticed. */
export const WAITING_COMMENT_EVERY_MS = 1000;
/** The comment a waiting stream carries; event-stream readers skip comments. */
export const WAITING_COMMENT = ": waiting for a worker\n\n";

const encoder = new TextEncoder();

export interface EarlyHeadOptions {
  /** Aborted when the client leaves the early body: the request leaves the queue. */
  gone: AbortController;
  /** Headers of the early answer besides its content type (the route's own). */
  headers: Record<string, string>;
  /** A refusal was written into the stream with this status (for the request's log and metrics). */
  onRefusal: (status: number) => void;
}

/** `answer`, or, when it takes longer than EARLY_HEAD_AFTER_MS, a 200 event stream that carries it once it comes. */
export async function answerOrEarlyHead(answer: Promise<Response>, options: EarlyHeadOptions): Promise<Response> {
  const first = await withinMs(answer, EARLY_HEAD_AFTER_MS);
  if (first !== undefined) return first;
  // Read when the stream needs it; a failure meanwhile must not surface as an unhandled rejection.
  answer.catch(() => {});
  const headers = new Headers(options.headers);
  headers.set("content-type", "text/event-stream; charset=utf-8");
  headers.set("cache-control", "no-cache");
  return new Response(waitingStream(answer, options), { status: 200, headers });
}

function waitingStream(answer: Promise<Response>, options: EarlyHeadOptions): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let commented = false;
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (reader) return pipeOne(reader, controller);
        if (!commented) {
          commented = true;
          controller.enqueue(encoder.encode(WAITING_COMMENT));
          return;
        }
        const placed = await withinMs(answer, WAITING_COMMENT_EVERY_MS).catch(failureResponse);
        if (cancelled) return;
        if (placed === undefined) {
          controller.enqueue(encoder.encode(WAITING_COMMENT));
          return;
        }
        if (placed.ok && placed.body && isEventStream(placed)) {
          reader = placed.body.getReader();
          return pipeOne(reader, controller);
        }
        options.onRefusal(placed.status);
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(refusalBody(placed.status, await placed.text()))}\n\n`));
        controller.close();
      },
      async cancel(reason) {
        cancelled = true;
        options.gone.abort(reason);
        if (reader) await reader.cancel(reason).catch(() => {});
        else void answer.then((late) => late.body?.cancel(reason)).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/** One read of the worker's stream, passed on; its end or failure is the early body's. */
async function pipeOne(reader: ReadableStreamDefaultReader<Uint8Array>, controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
  try {
    const { done, value } = await reader.read();
    if (done) controller.close();
    else controller.enqueue(value);
  } catch (error) {
    controller.error(error);
  }
}

/** The answer failed outright (the route threw): its error, as the route's onError would have answered it. */
function failureResponse(error: unknown): Response {
  if (error instanceof RbeeError) return error.toResponse();
  console.error("a waiting stream's answer failed", error);
  return Response.json(openAiErrorBody(500, "internal_error", "The queen hit an unexpected error; see its logs."), { status: 500 });
}

/** A refusal's error body as the stream's event: OpenAI's error shape, whatever the refusal's body was. */
function refusalBody(status: number, text: string) {
  return errorBodyOf(text) ?? openAiErrorBody(status, "relay_failed", text.slice(0, 500) || `The queen's answer was ${status}.`);
}
