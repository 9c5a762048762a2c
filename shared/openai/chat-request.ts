// The OpenAI chat-completions request as rbee accepts it. The queen validates it before
// routing and the worker validates it again before generating: one schema, both ends. Every
// field of OpenAI's API is either honoured or refused with a 400 naming it (refused-fields.ts);
// fields outside the API are stripped, and the queen names them in a header (ignored-fields.ts).
import { z } from "zod";
import { ChatMessage } from "./chat-messages.js";
import { ChatTool, ChatToolChoice } from "./chat-tools.js";
import { JsonSchemaField } from "./json-schema-field.js";
import { CacheScopeField } from "./cache-scope.js";
import { KeepAliveField } from "./keep-alive.js";
import { NoEffectFields, refused } from "./refused-fields.js";

export { ChatMessage, messageText, type AssistantMessage, type ToolMessage } from "./chat-messages.js";

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
  /**
   * A JSON Schema; a strict one is enforced whole or refused, another by its structure (the worker's
   * response-formats.ts). Optional, as in OpenAI's API: without one the answer is any JSON object.
   */
  schema: JsonSchemaField.optional(),
  strict: z.boolean().nullish(),
});

/**
 * `json_object` with a `schema` beside it, as llama.cpp's server and Together take it (and
 * instructor's JSON_SCHEMA mode sends it): JSON matching the schema, as `json_schema` gives. Its
 * `schema` was dropped unseen, and the answer was any JSON object.
 */
const JsonObjectFormat = z.object({ type: z.literal("json_object"), schema: JsonSchemaField.nullish() }).transform((format) =>
  format.schema == null ? { type: format.type } : { type: "json_schema" as const, json_schema: { name: "response", schema: format.schema, strict: false } },
);

/** Constrains the output: free text, any JSON object, or JSON matching a schema. */
export const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  JsonObjectFormat,
  z.object({ type: z.literal("json_schema"), json_schema: JsonSchemaFormat }),
]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

export const StreamOptions = z.object({
  include_usage: z.boolean().nullish(),
  /** Padding against length side channels on the public internet; rbee's chunks carry none. */
  include_obfuscation: z.boolean().nullish(),
});

/** `stream_options` only with `stream: true`, as OpenAI refuses it: options of a stream nobody asked for would be ignored unseen. */
export function checkStreamOptions(request: { stream?: boolean | null; stream_options?: unknown }, ctx: z.RefinementCtx): void {
  if (request.stream_options != null && request.stream !== true) {
    ctx.addIssue({ code: "custom", path: ["stream_options"], message: "only allowed when stream is true" });
  }
}

/** Most tokens one request may bias. */
export const MAX_LOGIT_BIAS_TOKENS = 1024;

/**
 * `logit_bias`, in chat and legacy completions alike: a bias from -100 (never, in practice) to 100
 * (that token only) added to the logit of each token, named by its id in the model's own
 * vocabulary (the worker refuses an id its model does not have: worker/token-bias.ts).
 */
export const LogitBiasField = {
  logit_bias: z
    .record(z.string(), z.number().min(-100).max(100))
    .superRefine((bias, context) => {
      const keys = Object.keys(bias);
      if (keys.length > MAX_LOGIT_BIAS_TOKENS) context.addIssue({ code: "custom", message: `at most ${MAX_LOGIT_BIAS_TOKENS} tokens, got ${keys.length}` });
      const notAnId = keys.find((key) => !/^\d{1,9}$/.test(key));
      if (notAnId !== undefined) context.addIssue({ code: "custom", path: [notAnId], message: "not a token id: keys are whole numbers, ids of the model's own vocabulary" });
    })
    .nullish(),
};

/**
 * The fields alone, without the checks across them: for schemas built from this one (`.pick`,
 * `.omit` and `.extend` refuse a schema with refinements). Validate requests with ChatCompletionRequest.
 */
export const ChatCompletionFields = z.object({
  model: z.string().min(1).max(256),
  messages: z.array(ChatMessage).min(1, "must hold at least one message"),
  stream: z.boolean().nullish(),
  stream_options: StreamOptions.nullish(),
  ...SamplingFields,
  /** OpenAI's newer name for max_tokens; wins when both are given. */
  max_completion_tokens: z.number().int().positive().nullish(),
  response_format: ResponseFormat.nullish(),
  n: z.literal(1, { error: "only n=1 is supported" }).nullish(),
  // No count limit (OpenAI's is 128): Anthropic's Messages and the Responses API arrive as chat
  // requests, and Anthropic has none; an agent with many MCP servers offers more. The body's size
  // bounds them, and the context's length refuses a prompt they overfill, naming both.
  tools: z.array(ChatTool).nullish(),
  tool_choice: ChatToolChoice.nullish(),
  /** false: at most one call per answer; true (the default): as many as the model's chat format allows. */
  parallel_tool_calls: z.boolean().nullish(),
  /** How long the model stays loaded after this request (Ollama's keep_alive); the queen strips it. */
  ...KeepAliveField,
  ...CacheScopeField,
  ...NoEffectFields,
  ...LogitBiasField,
  logprobs: refused("token log-probabilities are not returned", false),
  top_logprobs: refused("token log-probabilities are not returned", 0),
  store: refused("rbee stores no completions", false),
  modalities: z.array(z.string()).nullish().refine((modes) => modes == null || modes.every((mode) => mode === "text"), "not supported: only text output"),
  audio: refused("audio output is not supported"),
  prediction: refused("predicted outputs are not supported"),
  web_search_options: refused("web search is not supported"),
  reasoning_effort: refused("reasoning effort cannot be set for these models"),
  verbosity: refused("verbosity cannot be set for these models"),
  functions: refused("the deprecated functions; send tools"),
  function_call: refused("the deprecated function_call; send tool_choice"),
});

/** The chat request, with the checks across its fields (checkToolFields, checkStreamOptions, checkTokenLimits). */
export const ChatCompletionRequest = ChatCompletionFields.superRefine((request, ctx) => {
  checkToolFields(request, ctx);
  checkStreamOptions(request, ctx);
  checkTokenLimits(request, ctx);
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/**
 * `max_tokens` and `max_completion_tokens` saying two things: OpenAI refuses both at once, and
 * picking one would answer longer or shorter than the client meant. The same number twice (a
 * client filling both for old and new servers) is one limit, and taken.
 */
function checkTokenLimits(request: { max_tokens?: number | null; max_completion_tokens?: number | null }, ctx: z.RefinementCtx): void {
  const { max_tokens: old, max_completion_tokens: current } = request;
  if (old != null && current != null && old !== current) {
    ctx.addIssue({ code: "custom", path: ["max_tokens"], message: `${old} differs from max_completion_tokens (${current}); send one limit (max_completion_tokens replaces max_tokens)` });
  }
}

/** Tool names unique, tool_choice naming a listed tool and "required" only with tools. */
export function checkToolFields(
  request: Pick<z.infer<typeof ChatCompletionFields>, "tools" | "tool_choice">,
  ctx: z.RefinementCtx,
): void {
  const names = (request.tools ?? []).map((tool) => tool.function.name);
  for (const [index, name] of names.entries()) {
    if (names.indexOf(name) !== index) ctx.addIssue({ code: "custom", path: ["tools", index, "function", "name"], message: `duplicate tool name ${JSON.stringify(name)}` });
  }
  const choice = request.tool_choice;
  if (typeof choice === "object" && choice !== null && !names.includes(choice.function.name)) {
    ctx.addIssue({ code: "custom", path: ["tool_choice", "function", "name"], message: `no tool named ${JSON.stringify(choice.function.name)} in tools` });
  }
  if (choice === "required" && names.length === 0) ctx.addIssue({ code: "custom", path: ["tool_choice"], message: '"required" needs tools' });
}

/** Whether the model is offered tools to call: some are listed and tool_choice is not "none". */
export function offersTools(request: Pick<ChatCompletionRequest, "tools" | "tool_choice">): boolean {
  return (request.tools?.length ?? 0) > 0 && request.tool_choice !== "none";
}
