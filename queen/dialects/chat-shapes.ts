// The OpenAI chat-completion shapes the dialect translators (dialects/responses, dialects/anthropic)
// write and read: the request they build (tools and tool calls as shared/openai defines them),
// and the answer and stream chunks they read back. The reading schemas are loose on purpose:
// they take only what the translators need from whatever the worker wrote.
import { z } from "zod";
import type { ChatTool, ChatToolCall, ChatToolChoice } from "../../shared/openai/chat-tools.js";
import { PromptTokensDetails } from "../streams/stream-event.js";

export type { ChatTool, ChatToolCall, ChatToolChoice } from "../../shared/openai/chat-tools.js";

/** The messages a dialect writes: text content only (the dialects refuse other parts by name). */
export type ChatMessageOut =
  | { role: "system" | "developer" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

/** The chat request a dialect is translated into; validated by ChatCompletionRequest before relaying. */
export interface ChatRequestOut {
  model: string;
  messages: ChatMessageOut[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop?: string[];
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: unknown;
  stream?: boolean;
  stream_options?: { include_usage: boolean };
}

export const ChatUsage = z.looseObject({
  prompt_tokens: z.number().int().nonnegative().catch(0),
  completion_tokens: z.number().int().nonnegative().catch(0),
  prompt_tokens_details: PromptTokensDetails,
});
export type ChatUsage = z.infer<typeof ChatUsage>;

const ChatToolCallSchema = z.looseObject({
  id: z.string(),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

/** The stop string that ended the answer (shared/openai/chat-response.ts); anything else reads as none. */
const StopReason = z.string().optional().catch(undefined);

/** A non-streamed chat completion, as far as the translators read it. */
export const ChatCompletionAnswer = z.looseObject({
  model: z.string(),
  choices: z
    .array(
      z.looseObject({
        message: z.looseObject({ content: z.string().nullish(), tool_calls: z.array(ChatToolCallSchema).nullish() }),
        finish_reason: z.string().nullish(),
        stop_reason: StopReason,
      }),
    )
    .min(1),
  usage: ChatUsage.nullish(),
});
export type ChatCompletionAnswer = z.infer<typeof ChatCompletionAnswer>;

/** One `delta.tool_calls` fragment: the first of a call carries its id and name, later ones arguments. */
const ChatToolCallDelta = z.looseObject({
  index: z.number().int().nonnegative(),
  id: z.string().nullish(),
  function: z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});
export type ChatToolCallDelta = z.infer<typeof ChatToolCallDelta>;

/** One chunk of a streamed chat completion. */
export const ChatCompletionChunk = z.looseObject({
  model: z.string().optional(),
  choices: z
    .array(
      z.looseObject({
        delta: z.looseObject({ content: z.string().nullish(), tool_calls: z.array(ChatToolCallDelta).nullish() }).nullish(),
        finish_reason: z.string().nullish(),
        stop_reason: StopReason,
      }),
    )
    .catch([]),
  usage: ChatUsage.nullish(),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;
