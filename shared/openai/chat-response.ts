// The OpenAI chat-completion answer as rbee's workers send it: the whole completion, and the
// chunks of a streamed one, tool calls included. The worker builds them (worker/chat-completion-
// shapes.ts); the queen's translations into other API dialects (Responses, Anthropic Messages)
// read them with these schemas, so both ends agree on one shape.
import { z } from "zod";
import { ChatToolCall, ToolName } from "./chat-tools.js";

/** Why an answer ended: `tool_calls` when it ended by calling tools. */
export const ChatFinishReason = z.enum(["stop", "length", "tool_calls"]);
export type ChatFinishReason = z.infer<typeof ChatFinishReason>;

/**
 * The stop string that ended an answer whose finish reason is "stop", when one of the request's
 * `stop` strings did (not the model's own end): vLLM's `stop_reason` on a choice, which OpenAI's
 * clients pass through. The Anthropic dialect reads it as `stop_sequence`. Absent otherwise.
 */
const StopReason = z.string().optional();

export const ChatUsage = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
});
export type ChatUsage = z.infer<typeof ChatUsage>;

/** The assistant's message: text (null when it only called tools), and its tool calls if any. */
export const ChatCompletionMessage = z.object({
  role: z.literal("assistant"),
  content: z.string().nullable(),
  /** Always null: OpenAI's clients type it as present. */
  refusal: z.null(),
  tool_calls: z.array(ChatToolCall).optional(),
});
export type ChatCompletionMessage = z.infer<typeof ChatCompletionMessage>;

/** What the whole answer and every chunk of it share: the same id, time and model. */
const Identity = {
  id: z.string(),
  /** Unix time in seconds. */
  created: z.number().int(),
  model: z.string(),
};

export const ChatCompletion = z.object({
  ...Identity,
  object: z.literal("chat.completion"),
  choices: z.array(z.object({ index: z.number().int(), message: ChatCompletionMessage, finish_reason: ChatFinishReason, stop_reason: StopReason, logprobs: z.null() })),
  usage: ChatUsage,
});
export type ChatCompletion = z.infer<typeof ChatCompletion>;

/**
 * A piece of a streamed tool call, as the official clients assemble them: the first piece of
 * call `index` carries its `id`, `type` and `function.name` (with empty arguments); the next ones
 * carry only more `function.arguments` text, to be appended in order.
 */
export const ChatToolCallDelta = z.object({
  index: z.number().int().nonnegative(),
  id: z.string().optional(),
  type: z.literal("function").optional(),
  function: z.object({ name: ToolName.optional(), arguments: z.string().optional() }),
});
export type ChatToolCallDelta = z.infer<typeof ChatToolCallDelta>;

export const ChatChunkDelta = z.object({
  role: z.literal("assistant").optional(),
  /** Null in the opening chunk of an answer that begins with a tool call, as OpenAI streams it. */
  content: z.string().nullable().optional(),
  tool_calls: z.array(ChatToolCallDelta).optional(),
});
export type ChatChunkDelta = z.infer<typeof ChatChunkDelta>;

export const ChatCompletionChunk = z.object({
  ...Identity,
  object: z.literal("chat.completion.chunk"),
  /** Empty in the last chunk, which carries only `usage` (when stream_options.include_usage). */
  choices: z.array(
    z.object({ index: z.number().int(), delta: ChatChunkDelta, finish_reason: ChatFinishReason.nullable(), stop_reason: StopReason, logprobs: z.null() }),
  ),
  usage: ChatUsage.optional(),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;
