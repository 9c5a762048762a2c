// The OpenAI chat-completions request as rbee accepts it. The queen validates it before
// routing and the worker validates it again before generating: one schema, both ends.
import { z } from "zod";

const TextPart = z.object({ type: z.literal("text"), text: z.string() });

export const ChatMessage = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(TextPart), z.null()]).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatCompletionRequest = z.looseObject({
  model: z.string().min(1).max(256),
  messages: z.array(ChatMessage).min(1, "must hold at least one message"),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.literal(1, { error: "only n=1 is supported" }).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** The text of a message, whether sent as a string or as an array of text parts. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text).join("");
}
