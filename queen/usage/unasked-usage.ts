// The usage of a stream whose client did not ask for it. The queen counts every answer's tokens
// for the API key that asked (meter-usage.ts), and holds keys to their token limits by that
// count; a stream tells its tokens only in the usage chunk that `stream_options.include_usage`
// asks for, and most streaming clients do not ask. So the queen always asks the worker for it,
// and a client that did not ask gets its stream as OpenAI sends one then: without that chunk.
// Left out, a stream without it counted no tokens at all, and a key's token limit did not hold
// for streams.
import { createMiddleware } from "hono/factory";
import { EVENT_END } from "../../shared/protocol/relay-flow.js";
import type { QueenEnv } from "../env.js";
import { isEventStream } from "../http/event-stream.js";
import { MAX_SSE_EVENT_CHARS } from "../streams/sse-data-reader.js";

interface StreamedRequest {
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
}

/** `request` as the worker gets it: a stream asks for its usage chunk. `unasked` when the client did not. */
export function askingForUsage<T extends object>(request: T): { request: T; unasked: boolean } {
  const { stream, stream_options: options } = request as StreamedRequest;
  if (stream !== true || options?.include_usage === true) return { request, unasked: false };
  return { request: { ...request, stream_options: { ...options, include_usage: true } }, unasked: true };
}

/**
 * For the inference routes, outside meterUsage: when the route set `usageUnasked`, the client's
 * stream leaves without the usage chunk that the meter has read by then.
 */
export const hideUnaskedUsage = createMiddleware<QueenEnv>(async (c, next) => {
  await next();
  const response = c.res;
  if (!c.get("usageUnasked") || !response.body || !isEventStream(response)) return;
  c.res = new Response(withoutUsageChunk(response.body), response);
});

/**
 * The events of `body` but its usage chunk (no choices, only usage). An event is passed on once
 * its blank line has come: a client acts on none before that. What has no blank line within
 * MAX_SSE_EVENT_CHARS is no usage chunk, and is passed on as it is.
 */
export function withoutUsageChunk(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  const pass = (text: string, controller: TransformStreamDefaultController<Uint8Array>) => {
    const kept = text.includes('"usage"') ? text.split(EVENT_END).filter((event) => !isUsageChunk(event)).join(EVENT_END) : text;
    if (kept.length > 0) controller.enqueue(encoder.encode(kept));
  };
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        pending += decoder.decode(chunk, { stream: true });
        const end = pending.lastIndexOf(EVENT_END);
        if (end === -1 && pending.length <= MAX_SSE_EVENT_CHARS) return;
        const whole = end === -1 ? pending.length : end + EVENT_END.length;
        pass(pending.slice(0, whole), controller);
        pending = pending.slice(whole);
      },
      flush(controller) {
        pass(pending + decoder.decode(), controller);
      },
    }),
  );
}

function isUsageChunk(event: string): boolean {
  const data = event.trim();
  if (!data.startsWith("data:") || !data.includes('"usage"')) return false;
  try {
    const chunk = JSON.parse(data.slice("data:".length)) as { choices?: unknown; usage?: unknown };
    return Array.isArray(chunk.choices) && chunk.choices.length === 0 && typeof chunk.usage === "object" && chunk.usage !== null;
  } catch {
    return false;
  }
}
