// Sends one generation as OpenAI-style server-sent events (`data: {…}` … `data: [DONE]`), for
// both chat and legacy completions, which differ only in the shape of their chunks.
import type { ServerResponse } from "node:http";
import type { GenerateOptions } from "../engine.js";
import type { ClientFinishReason, Completion, Usage } from "../completion-result.js";
import type { RouteContext } from "./route-context.js";

/** The chunks of one stream, in the route's own shapes. */
export interface StreamChunks {
  /** Sent before the first text (chat's `role` chunk); none when undefined. */
  opening: unknown;
  text: (text: string) => unknown;
  finish: (reason: ClientFinishReason) => unknown;
  /** The usage chunk before [DONE], or undefined when the client did not ask for one. */
  usage: ((usage: Usage) => unknown) | undefined;
}

/**
 * Headers go out with the first text rather than at once, so an error found before generating
 * (a full queue, context overflow) still gets its proper status code.
 */
export async function streamGeneration(
  response: ServerResponse,
  chunks: StreamChunks,
  generate: (onTextChunk: NonNullable<GenerateOptions["onTextChunk"]>) => Promise<Completion>,
  context: Pick<RouteContext, "clientError">,
): Promise<void> {
  // Writes are not awaited: one completion is bounded by the context size, so a slow reader
  // can only make Node buffer a few kilobytes, never unbounded memory.
  const send = (payload: unknown): void => {
    response.write(`data: ${JSON.stringify(payload)}\n\n`);
  };
  const start = (): void => {
    if (response.headersSent) return;
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      // Tells proxies such as nginx not to hold tokens back in a buffer.
      "x-accel-buffering": "no",
    });
    if (chunks.opening !== undefined) send(chunks.opening);
  };

  let completion: Completion;
  try {
    completion = await generate((text) => {
      if (text === "") return;
      start();
      send(chunks.text(text));
    });
  } catch (error) {
    if (!response.headersSent) throw error;
    // Too late for a status code: the error goes as a last event, as OpenAI does mid-stream.
    send(context.clientError(error).toBody());
    response.end();
    return;
  }
  if (completion.finishReason === "abort") return;
  start();
  send(chunks.finish(completion.finishReason));
  if (chunks.usage) send(chunks.usage(completion.usage));
  response.end("data: [DONE]\n\n");
}
