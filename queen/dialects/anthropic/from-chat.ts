// Translates a chat completion (the worker's answer) into an Anthropic Message: text and
// tool_use content blocks, the stop reason in Anthropic's words, and usage as input/output
// tokens. Used whole for non-streamed answers; anthropic/stream.ts uses the stop reason.
import { Allow, parse as parsePartialJson } from "partial-json";
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
  // A call cut by max_tokens has arguments that are not yet JSON: its tool_use block holds the
  // values of them that are whole (`{"unit": "C", "city": "Par` → {unit: "C"}), as Anthropic returns
  // a cut call and as its SDKs assemble the same answer streamed, and the stop reason says max_tokens.
  const cut = choice?.finish_reason === "length";
  const toolCalls = choice?.message.tool_calls ?? [];
  // No empty text block: the streamed answer has none either, and Anthropic's API refuses one
  // sent back in the next turn's history. An answer with nothing in it has no blocks, as Anthropic's.
  const content: unknown[] = [];
  if (text !== "") content.push({ type: "text", text });
  for (const call of toolCalls) {
    const input = cut && !parsesAsJson(call.function.arguments) ? partialInput(call.function.arguments) : parseToolArguments(call.function.arguments);
    content.push({ type: "tool_use", id: call.id, name: call.function.name, input });
  }
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

/** The whole values of the object a cut call's arguments begin (`{}` before any is whole). */
function partialInput(text: string): Record<string, unknown> {
  try {
    // Objects and arrays may be open; a string, number or literal cut within is left out.
    const parsed: unknown = parsePartialJson(text, Allow.COLLECTION);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Anthropic's usage: its clients add the cache counts to the input tokens (the SDK types them as
 * numbers), so they are there, as 0: rbee bills no prompt cache apart.
 */
export function anthropicUsage(inputTokens: number, outputTokens: number) {
  return { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}
