// What one generation returns to the HTTP layer, whether it came from a chat or a plain
// completion: the text, the tool calls, why it ended in OpenAI's terms, and the token usage.
import type { ChatToolCall } from "../shared/openai/chat-tools.js";
import { parsesAsJson } from "../shared/parses-as-json.js";

/** "abort" never reaches a client: it means the client left and nobody is listening. */
export type FinishReason = "stop" | "length" | "tool_calls" | "abort";

/** The finish reasons a client can see. */
export type ClientFinishReason = Exclude<FinishReason, "abort">;

/** OpenAI's usage object, in tokens. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: { reasoning_tokens: number; audio_tokens: number; accepted_prediction_tokens: number; rejected_prediction_tokens: number };
}

export interface Completion {
  text: string;
  /** The request's stop string that ended the answer, when one did (the choice's `stop_reason`). */
  stopSequence?: string;
  /** The calls a chat answer made (finishReason "tool_calls"); empty otherwise. */
  toolCalls: ChatToolCall[];
  finishReason: FinishReason;
  usage: Usage;
}

/** Why node-llama-cpp stopped, across LlamaChat and LlamaCompletion. */
export type LlamaStopReason =
  | "eogToken"
  | "stopGenerationTrigger"
  | "customStopTrigger"
  | "functionCalls"
  | "maxTokens"
  | "abort";

/**
 * OpenAI's finish reason for node-llama-cpp's stop reason. With a grammar (`constrained`),
 * generation may hit max_tokens on the very token that closes the JSON: the client got a whole
 * value, so "length" (which says "cut short") would be wrong; text that does not parse was cut.
 */
export function finishReasonOf(stopReason: LlamaStopReason, constrained = false, text = ""): FinishReason {
  switch (stopReason) {
    case "eogToken":
    case "stopGenerationTrigger":
    case "customStopTrigger":
    case "functionCalls":
      return "stop";
    case "maxTokens":
      return constrained && parsesAsJson(text) ? "stop" : "length";
    case "abort":
      return "abort";
  }
}

/**
 * With the breakdown OpenAI always sends, which clients read without a check
 * (`usage.prompt_tokens_details.cached_tokens`). `cachedTokens`: those of the prompt the slot had
 * evaluated already, as llama.cpp's server counts them (nothing is billed differently for it). The
 * rest is 0: no model here reasons apart from its answer, hears or speaks, or is given a predicted
 * output.
 */
export function usage(promptTokens: number, completionTokens: number, cachedTokens = 0): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

export function aborted(promptTokens: number): Completion {
  return { text: "", toolCalls: [], finishReason: "abort", usage: usage(promptTokens, 0) };
}

/**
 * The stop string that ended a generation, from node-llama-cpp's metadata: a custom stop trigger
 * comes back as its parts, which for a `stop` string are that string's text.
 */
export function stopSequenceOf(metadata: { stopReason: string; customStopTrigger?: readonly unknown[] }): string | undefined {
  if (metadata.stopReason !== "customStopTrigger" || !metadata.customStopTrigger) return undefined;
  return metadata.customStopTrigger.filter((part): part is string => typeof part === "string").join("");
}

/** A choice's `finish_reason`, and its `stop_reason` when a stop string ended it (shared/openai/chat-response.ts). */
export function finishFields(finishReason: ClientFinishReason, stopSequence: string | undefined): { finish_reason: ClientFinishReason; stop_reason?: string } {
  return stopSequence === undefined ? { finish_reason: finishReason } : { finish_reason: finishReason, stop_reason: stopSequence };
}
