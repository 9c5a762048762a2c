// Makes a chunk of a continuation (another worker's stream, picking up a lost answer) look like
// the next chunk of the stream the client is reading: the id, created and model it already saw,
// no second `role` (the worker's role-only opening chunk disappears), and a usage that counts
// the whole answer rather than the continuation's part. spliced-stream.ts applies it.
import type { ChunkChoice, StreamChunk } from "./stream-event.js";
import type { StreamTranscript } from "./stream-transcript.js";

/** The chunk as the client gets it, or undefined when nothing of it is left to show. */
export function splicedChunk(chunk: StreamChunk, transcript: StreamTranscript, tokensBefore: number): StreamChunk | undefined {
  const choices = transcript.roleSent ? chunk.choices.flatMap(withoutRole) : chunk.choices;
  if (choices.length === 0 && chunk.choices.length > 0 && !chunk.usage) return undefined;
  const spliced: StreamChunk = { ...chunk, ...transcript.identity, choices };
  if (chunk.usage) spliced.usage = wholeAnswerUsage(chunk.usage, tokensBefore);
  return spliced;
}

/** The choice without its `role`; none when nothing else was in it (an opening chunk). */
function withoutRole(choice: ChunkChoice): ChunkChoice[] {
  if (!choice.delta || choice.delta.role == null) return [choice];
  const delta = { ...choice.delta };
  delete delta.role;
  const saysNothing = (delta.content ?? "") === "" && Object.keys(delta).every((key) => key === "content");
  return saysNothing && !choice.finish_reason ? [] : [{ ...choice, delta }];
}

/**
 * The continuation's prompt held the original prompt plus the text already streamed, and its
 * completion is only the new part: the text moves from prompt to completion. `tokensBefore` is
 * the transcript's estimate (streams carry no usage until their end), so the split between the
 * two is an estimate too; their sum is what the last worker counted.
 */
function wholeAnswerUsage(usage: NonNullable<StreamChunk["usage"]>, tokensBefore: number): NonNullable<StreamChunk["usage"]> {
  const promptTokens = Math.max(0, usage.prompt_tokens - tokensBefore);
  const completionTokens = usage.completion_tokens + tokensBefore;
  const whole = { ...usage, prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  // What the last worker held of its prompt may have been of the answer's text, now counted as completion.
  const cached = usage.prompt_tokens_details?.cached_tokens;
  return cached === undefined ? whole : { ...whole, prompt_tokens_details: { ...usage.prompt_tokens_details, cached_tokens: Math.min(cached, promptTokens) } };
}

/**
 * The finish chunk of an answer whose worker was lost after its last token but before saying
 * so: the tokens sent already fill `max_tokens`, so the answer ends as the worker would have
 * ended it, with `length`.
 */
export function lengthFinishChunk(kind: "chat" | "completion", transcript: StreamTranscript): StreamChunk {
  const choice = kind === "chat" ? { index: 0, delta: {}, finish_reason: "length", logprobs: null } : { index: 0, text: "", finish_reason: "length", logprobs: null };
  const object = kind === "chat" ? "chat.completion.chunk" : "text_completion";
  return { ...transcript.identity, object, choices: [choice] };
}
