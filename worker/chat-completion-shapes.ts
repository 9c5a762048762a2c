// The OpenAI chat-completion response and stream-chunk objects the worker sends, built in one
// place so the streamed and non-streamed answers share id, model and field names.
import { randomBytes } from "node:crypto";
import type { ClientFinishReason, Usage } from "./completion-result.js";

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

export function chatCompletion(identity: CompletionIdentity, content: string, finishReason: ClientFinishReason, usage: Usage) {
  return {
    ...identity,
    object: "chat.completion" as const,
    choices: [{ index: 0, message: { role: "assistant" as const, content }, finish_reason: finishReason, logprobs: null }],
    usage,
  };
}

export interface ChunkDelta {
  role?: "assistant";
  content?: string;
}

export function chatCompletionChunk(identity: CompletionIdentity, delta: ChunkDelta, finishReason: ClientFinishReason | null) {
  return {
    ...identity,
    object: "chat.completion.chunk" as const,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  };
}

/** The extra last chunk sent when `stream_options.include_usage` is set: no choices, only usage. */
export function chatUsageChunk(identity: CompletionIdentity, usage: Usage) {
  return { ...identity, object: "chat.completion.chunk" as const, choices: [], usage };
}
