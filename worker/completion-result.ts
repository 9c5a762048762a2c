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
}

export interface Completion {
  text: string;
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

export function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function aborted(promptTokens: number): Completion {
  return { text: "", toolCalls: [], finishReason: "abort", usage: usage(promptTokens, 0) };
}
