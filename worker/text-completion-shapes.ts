// The OpenAI legacy-completion (`text_completion`) response and stream chunks the worker sends;
// unlike chat, the streamed chunks carry the same object type as the whole response.
import type { CompletionIdentity } from "./chat-completion-shapes.js";
import { type ClientFinishReason, finishFields, type Usage } from "./completion-result.js";

export function textCompletion(identity: CompletionIdentity, text: string, finishReason: ClientFinishReason, usage: Usage, stopSequence?: string) {
  return {
    ...identity,
    object: "text_completion" as const,
    choices: [{ index: 0, text, ...finishFields(finishReason, stopSequence), logprobs: null }],
    usage,
  };
}

export function textCompletionChunk(identity: CompletionIdentity, text: string, finishReason: ClientFinishReason | null, stopSequence?: string) {
  const finish = finishReason === null ? { finish_reason: null } : finishFields(finishReason, stopSequence);
  return {
    ...identity,
    object: "text_completion" as const,
    choices: [{ index: 0, text, ...finish, logprobs: null }],
  };
}

/** The extra last chunk sent when `stream_options.include_usage` is set: no choices, only usage. */
export function textUsageChunk(identity: CompletionIdentity, usage: Usage) {
  return { ...identity, object: "text_completion" as const, choices: [], usage };
}
