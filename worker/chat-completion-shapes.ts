// The OpenAI chat-completion response and stream-chunk objects the worker sends, built in one
// place so the streamed and non-streamed answers share id, model and field names.
import { randomBytes } from "node:crypto";
import type { ChatChunkDelta, ChatCompletion, ChatCompletionChunk } from "../shared/openai/chat-response.js";
import type { ChatToolCall } from "../shared/openai/chat-tools.js";
import { type ClientFinishReason, finishFields, type Usage } from "./completion-result.js";

/** What every chunk of one completion has in common. */
export interface CompletionIdentity {
  id: string;
  /** Unix time in seconds, as OpenAI sends it. */
  created: number;
  model: string;
}

/** A fresh identity; OpenAI's ids start `chatcmpl-` for chat and `cmpl-` for legacy completions. */
export function newCompletionIdentity(model: string, idPrefix: "chatcmpl" | "cmpl" = "chatcmpl"): CompletionIdentity {
  return { id: `${idPrefix}-${randomBytes(12).toString("hex")}`, created: Math.floor(Date.now() / 1000), model };
}

/** The whole answer; `content` is null when the answer only calls tools, as OpenAI sends it. */
export function chatCompletion(
  identity: CompletionIdentity,
  text: string,
  toolCalls: readonly ChatToolCall[],
  finishReason: ClientFinishReason,
  usage: Usage,
  stopSequence?: string,
): ChatCompletion {
  // `refusal` as OpenAI sends it (null: rbee's models do not refuse by a separate channel); its SDK types it as always there.
  const message =
    toolCalls.length === 0
      ? { role: "assistant" as const, content: text, refusal: null }
      : { role: "assistant" as const, content: text === "" ? null : text, refusal: null, tool_calls: [...toolCalls] };
  return { ...identity, object: "chat.completion", choices: [{ index: 0, message, ...finishFields(finishReason, stopSequence), logprobs: null }], usage };
}

export function chatCompletionChunk(identity: CompletionIdentity, delta: ChatChunkDelta, finishReason: ClientFinishReason | null, stopSequence?: string): ChatCompletionChunk {
  const finish = finishReason === null ? { finish_reason: null } : finishFields(finishReason, stopSequence);
  return { ...identity, object: "chat.completion.chunk", choices: [{ index: 0, delta, ...finish, logprobs: null }] };
}

/** The extra last chunk sent when `stream_options.include_usage` is set: no choices, only usage. */
export function chatUsageChunk(identity: CompletionIdentity, usage: Usage): ChatCompletionChunk {
  return { ...identity, object: "chat.completion.chunk", choices: [], usage };
}
