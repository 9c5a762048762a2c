// Translates a chat completion (the worker's answer) into an Anthropic Message: text and
// tool_use content blocks, the stop reason in Anthropic's words, and usage as input/output
// tokens. Used whole for non-streamed answers; anthropic/stream.ts uses the stop reason.
import { newId } from "../../../shared/ids.js";
import { parsesAsJson } from "../../../shared/parses-as-json.js";
import type { ChatCompletionAnswer } from "../chat-shapes.js";
import { parseToolArguments } from "../dialect-answer.js";

export type AnthropicStopReason = "end_turn" | "max_tokens" | "tool_use" | "stop_sequence";

/** Anthropic's stop reason and stop sequence for a chat finish reason and the stop string that ended the answer, if one did. */
export function stopOf(finishReason: string | null | undefined, stopSequence: string | undefined): { stop_reason: AnthropicStopReason; stop_sequence: string | null } {
  if (finishReason === "length") return { stop_reason: "max_tokens", stop_sequence: null };
  if (finishReason === "tool_calls") return { stop_reason: "tool_use", stop_sequence: null };
  if (stopSequence !== undefined) return { stop_reason: "stop_sequence", stop_sequence: stopSequence };
  return { stop_reason: "end_turn", stop_sequence: null };
}

/** Anthropic's `msg_…` id. */
export function newMessageId(): string {
  return newId("msg");
}

export function messageFromChat(answer: ChatCompletionAnswer, model: string) {
  const choice = answer.choices[0];
  const text = choice?.message.content ?? "";
  // A call cut by max_tokens has arguments that are not yet JSON, and a tool_use block needs its
  // input as an object: it is left out, and the stop reason says max_tokens.
  const cut = choice?.finish_reason === "length";
  const toolCalls = (choice?.message.tool_calls ?? []).filter((call) => !cut || parsesAsJson(call.function.arguments));
  // No empty text block: the streamed answer has none either, and Anthropic's API refuses one
  // sent back in the next turn's history. An answer with nothing in it has no blocks, as Anthropic's.
  const content: unknown[] = [];
  if (text !== "") content.push({ type: "text", text });
  for (const call of toolCalls) content.push({ type: "tool_use", id: call.id, name: call.function.name, input: parseToolArguments(call.function.arguments) });
  return {
    id: newMessageId(),
    type: "message",
    role: "assistant",
    model,
    content,
    ...stopOf(choice?.finish_reason, choice?.stop_reason),
    usage: anthropicUsage(answer.usage?.prompt_tokens ?? 0, answer.usage?.completion_tokens ?? 0),
  };
}

/**
 * Anthropic's usage: its clients add the cache counts to the input tokens (the SDK types them as
 * numbers), so they are there, as 0: rbee bills no prompt cache apart.
 */
export function anthropicUsage(inputTokens: number, outputTokens: number) {
  return { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}
