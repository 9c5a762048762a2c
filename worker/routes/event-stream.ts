// Sends one generation as OpenAI-style server-sent events (`data: {…}` … `data: [DONE]`), for
// both chat and legacy completions, which differ only in the shape of their chunks (and chat's
// tool-call pieces).
import type { Context } from "hono";
import { stream } from "hono/streaming";
import type { GenerateOptions } from "../engine.js";
import type { ChatToolCallDelta } from "../../shared/openai/chat-response.js";
import { RbeeError } from "../../shared/errors.js";
import { MAX_STREAM_WRITE_INTERVAL_MS, PROMPT_TOKENS_HEADER, STREAM_WRITE_INTERVAL_HEADER } from "../../shared/openai/inference-headers.js";
import type { ClientFinishReason, Completion, Usage } from "../completion-result.js";
import { EventBatch } from "./event-batch.js";
import { nobodyListening, type RouteContext } from "./route-context.js";

/** The chunks of one stream, in the route's own shapes. */
export interface StreamChunks {
  /** Sent before the first text or tool call (chat's `role` chunk), told which comes first; none when undefined. */
  opening: ((first: "text" | "tool_call") => unknown) | undefined;
  text: (text: string) => unknown;
  /** A piece of a tool call (chat only; legacy completions make none). */
  toolCall?: (delta: ChatToolCallDelta) => unknown;
  /** The last chunk of text: why the answer ended, and the stop string that ended it, if one did. */
  finish: (reason: ClientFinishReason, stopSequence: string | undefined) => unknown;
  /** The usage chunk before [DONE], or undefined when the client did not ask for one. */
  usage: ((usage: Usage) => unknown) | undefined;
}

const EVENT_STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Tells proxies such as nginx not to hold tokens back in a buffer.
  "x-accel-buffering": "no",
  // Declared so @hono/node-server sends the headers at once instead of first reading ahead for a length.
  "transfer-encoding": "chunked",
};

/**
 * The response is made only once the first text exists (or generation ended without any), so an
 * error found before generating (a full queue, context overflow) still gets its proper status code.
 * Its head names the prompt's tokens (PROMPT_TOKENS_HEADER), for a queen whose client may leave
 * before the usage chunk.
 */
export async function streamGeneration(
  c: Context,
  chunks: StreamChunks,
  generate: (streaming: Required<Pick<GenerateOptions, "onTextChunk" | "onToolCallDelta" | "onPromptTokens">>) => Promise<Completion>,
  context: Pick<RouteContext, "clientError">,
): Promise<Response> {
  const events = new EventBatch(writeIntervalOf(c.req.header(STREAM_WRITE_INTERVAL_HEADER)));
  const send = (payload: unknown): void => events.add(`data: ${JSON.stringify(payload)}\n\n`);
  let opened = false;
  const open = (first: "text" | "tool_call"): void => {
    if (opened) return;
    opened = true;
    if (chunks.opening !== undefined) send(chunks.opening(first));
  };

  let promptTokens: number | undefined;
  let firstText: () => void = () => {};
  const textArrived = new Promise<void>((resolve) => (firstText = resolve));
  const generation = generate({
    onTextChunk: (text) => {
      if (text === "") return;
      open("text");
      send(chunks.text(text));
      firstText();
    },
    onToolCallDelta: (delta) => {
      if (chunks.toolCall === undefined) return;
      open("tool_call");
      send(chunks.toolCall(delta));
      firstText();
    },
    onPromptTokens: (count) => {
      promptTokens = count;
    },
  });
  // An error before the first text leaves with its own status code; one after it is streamed below.
  await Promise.race([textArrived, generation]).catch((error: unknown) => {
    if (!opened) throw error;
  });
  if (!opened && (await generation).finishReason === "abort") return nobodyListening(c);

  for (const [name, value] of Object.entries(EVENT_STREAM_HEADERS)) c.header(name, value);
  if (promptTokens !== undefined) c.header(PROMPT_TOKENS_HEADER, String(promptTokens));
  return stream(c, async (response) => {
    events.attach(response);
    try {
      const completion = await generation;
      if (completion.finishReason === "abort") return;
      open("text");
      send(chunks.finish(completion.finishReason, completion.stopSequence));
      if (chunks.usage) send(chunks.usage(completion.usage));
      events.add("data: [DONE]\n\n");
    } catch (error) {
      // Too late for a status code: the error goes as a last event, as OpenAI does mid-stream.
      send(context.clientError(error).toBody());
    } finally {
      events.flush();
    }
  });
}

/** The write interval a request asks for (its hive's), or undefined for EventBatch's own; refused when it is no whole number of ms in range. */
export function writeIntervalOf(asked: string | undefined): number | undefined {
  if (asked === undefined) return undefined;
  const ms = /^\d{1,7}$/.test(asked) ? Number(asked) : Number.NaN;
  if (!(ms <= MAX_STREAM_WRITE_INTERVAL_MS)) {
    throw new RbeeError(400, "invalid_header", `${STREAM_WRITE_INTERVAL_HEADER} must be a whole number of milliseconds from 0 to ${MAX_STREAM_WRITE_INTERVAL_MS}, got ${JSON.stringify(asked.slice(0, 40))}`, { param: STREAM_WRITE_INTERVAL_HEADER });
  }
  return ms;
}
