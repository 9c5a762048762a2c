// The OpenAI chat-completions request as rbee accepts it. The queen validates it before
// routing and the worker validates it again before generating: one schema, both ends.
import { z } from "zod";
import { KeepAliveField } from "./keep-alive.js";

const TextPart = z.object({ type: z.literal("text"), text: z.string() });

export const ChatMessage = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(TextPart), z.null()]).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/**
 * Sampling fields shared by chat and legacy completions, with OpenAI's ranges. `top_k`, `min_p`
 * and `repeat_penalty` are llama.cpp's extensions, as its own server names them.
 */
export const SamplingFields = {
  max_tokens: z.number().int().positive().nullish(),
  /** 0 is greedy: the most likely token every time. */
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  /** Sample from the k most likely tokens only; 0 means no limit. */
  top_k: z.number().int().min(0).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  /** The same seed and request give the same text, at any temperature. */
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  /** Divides the odds of recently generated tokens; 1 means no penalty. */
  repeat_penalty: z.number().gt(0).max(2).nullish(),
};

export const JsonSchemaFormat = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1–64 letters, digits, _ or -"),
  description: z.string().optional(),
  /** A JSON Schema; the worker refuses the parts it cannot enforce rather than ignore them. */
  schema: z.record(z.string(), z.unknown()),
  strict: z.boolean().nullish(),
});

/** Constrains the output: free text, any JSON object, or JSON matching a schema. */
export const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({ type: z.literal("json_schema"), json_schema: JsonSchemaFormat }),
]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

export const StreamOptions = z.object({ include_usage: z.boolean().optional() });

export const ChatCompletionRequest = z.looseObject({
  model: z.string().min(1).max(256),
  messages: z.array(ChatMessage).min(1, "must hold at least one message"),
  stream: z.boolean().optional(),
  stream_options: StreamOptions.nullish(),
  ...SamplingFields,
  /** OpenAI's newer name for max_tokens; wins when both are given. */
  max_completion_tokens: z.number().int().positive().nullish(),
  response_format: ResponseFormat.nullish(),
  n: z.literal(1, { error: "only n=1 is supported" }).nullish(),
  /** How long the model stays loaded after this request (Ollama's keep_alive); the queen strips it. */
  ...KeepAliveField,
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** The text of a message, whether sent as a string or as an array of text parts. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text).join("");
}
