// What one event of a relayed OpenAI stream is, to the queen that continues a broken answer
// (spliced-stream.ts): the end (`[DONE]`), an error (`{"error":{…}}`, which the queen appends
// when a relay breaks and a worker sends when generation fails), or a completion chunk, read
// loosely so that fields the queen does not know pass through untouched.
import { z } from "zod";
import type { OpenAiErrorBody } from "../../shared/errors.js";
import { errorBodyOf } from "../client-errors/error-body.js";

const ChunkChoice = z.looseObject({
  index: z.number().int().nonnegative().catch(0),
  /** Chat chunks. */
  delta: z.looseObject({ role: z.string().nullish(), content: z.string().nullish() }).nullish(),
  /** Legacy completion chunks. */
  text: z.string().nullish(),
  finish_reason: z.string().nullish(),
});

/** A usage's `prompt_tokens_details`: of the prompt, the tokens the worker's slot held already (absent from an older worker). */
export const PromptTokensDetails = z.looseObject({ cached_tokens: z.number().int().nonnegative().catch(0) }).nullish().catch(undefined);

const ChunkUsage = z.looseObject({
  prompt_tokens: z.number().int().nonnegative().catch(0),
  completion_tokens: z.number().int().nonnegative().catch(0),
  prompt_tokens_details: PromptTokensDetails,
});

const StreamChunk = z.looseObject({
  id: z.string().optional(),
  created: z.number().optional(),
  model: z.string().optional(),
  choices: z.array(ChunkChoice).catch([]),
  usage: ChunkUsage.nullish(),
});
export type StreamChunk = z.infer<typeof StreamChunk>;
export type ChunkChoice = z.infer<typeof ChunkChoice>;

export type StreamEvent =
  | { kind: "done" }
  | { kind: "error"; body: OpenAiErrorBody }
  | { kind: "chunk"; chunk: StreamChunk }
  /**
   * Not JSON: the stream broke off inside an event (the hive relays bytes in frames cut
   * anywhere, and the relay's error event is appended right after the last of them).
   */
  | { kind: "malformed" }
  /** JSON of another shape: passed on as it came. */
  | { kind: "other" };

export function readStreamEvent(data: string): StreamEvent {
  if (data.trim() === "[DONE]") return { kind: "done" };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { kind: "malformed" };
  }
  if (typeof json === "object" && json !== null && "error" in json) {
    const body = errorBodyOf(data);
    if (body) return { kind: "error", body };
  }
  const chunk = StreamChunk.safeParse(json);
  return chunk.success ? { kind: "chunk", chunk: chunk.data } : { kind: "other" };
}

/** A usage chunk as `stream_options.include_usage` asks for it: no choices, only the usage. */
export function isUsageChunk(chunk: StreamChunk): boolean {
  return chunk.choices.length === 0 && chunk.usage != null;
}

/** The text a choice adds: a chat delta's content or a completion chunk's text. */
export function choiceText(choice: ChunkChoice): string {
  return choice.delta?.content ?? choice.text ?? "";
}

/** One server-sent event carrying `data`; data of several lines goes as several `data:` lines. */
export function sseEvent(data: string): string {
  return `${data
    .split("\n")
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;
}

export const DONE_EVENT = sseEvent("[DONE]");
