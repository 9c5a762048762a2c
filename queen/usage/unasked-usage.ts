// The usage of a stream whose client did not ask for it. The queen counts every answer's tokens
// for the API key that asked (meter-usage.ts), and holds keys to their token limits by that
// count; a stream tells its tokens only in the usage chunk that `stream_options.include_usage`
// asks for, and most streaming clients do not ask. So the queen always asks the worker for it,
// and a client that did not ask gets its stream as OpenAI sends one then: without that chunk
// (the stage that relays the stream counts it and leaves it out, streams/spliced-stream.ts's
// `hideUsageChunk`).
// Left out, a stream without it counted no tokens at all, and a key's token limit did not hold
// for streams.

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
