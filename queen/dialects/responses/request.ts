// The OpenAI Responses request (POST /v1/responses) as the queen accepts it. Input items and
// tools of every type OpenAI documents are named: the ones rbee serves are parsed, the others
// only to be refused by name (to-chat.ts); a type nobody documents is a validation error listing
// the known ones. A message item may leave out `type`, as OpenAI allows.
import { z } from "zod";
import { JsonSchemaFormat } from "../../../shared/openai/chat-request.js";
import { JsonSchemaField } from "../../../shared/openai/json-schema-field.js";

const TextPart = z.looseObject({ type: z.enum(["input_text", "output_text"]), text: z.string() });
const RefusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });
const REFUSED_PART_TYPES = ["input_image", "input_file", "input_audio"] as const;
const RefusedPart = z.looseObject({ type: z.enum(REFUSED_PART_TYPES) });
const ContentPart = z.discriminatedUnion("type", [TextPart, RefusalPart, RefusedPart]);

const MessageItem = z.looseObject({
  type: z.literal("message"),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(ContentPart)]),
});

const FunctionCallItem = z.looseObject({
  type: z.literal("function_call"),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});

const FunctionCallOutputItem = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(ContentPart)]),
});

/** Item types OpenAI has that rbee refuses: they belong to OpenAI's hosted tools or reasoning models. */
export const REFUSED_ITEM_TYPES = [
  "reasoning",
  "item_reference",
  "file_search_call",
  "web_search_call",
  "computer_call",
  "computer_call_output",
  "image_generation_call",
  "code_interpreter_call",
  "local_shell_call",
  "local_shell_call_output",
  "shell_call",
  "shell_call_output",
  "apply_patch_call",
  "apply_patch_call_output",
  "mcp_list_tools",
  "mcp_approval_request",
  "mcp_approval_response",
  "mcp_call",
  "custom_tool_call",
  "custom_tool_call_output",
  "compaction",
] as const;
const RefusedItem = z.looseObject({ type: z.enum(REFUSED_ITEM_TYPES) });

export const InputItem = z.preprocess(
  (item) => (typeof item === "object" && item !== null && !("type" in item) && "role" in item ? { ...item, type: "message" } : item),
  z.discriminatedUnion("type", [MessageItem, FunctionCallItem, FunctionCallOutputItem, RefusedItem]),
);
export type InputItem = z.infer<typeof InputItem>;

/** A function tool in the Responses API's flat shape; any other tool type is refused by name. */
const Tool = z.looseObject({
  type: z.string(),
  name: z.string().min(1).max(128).optional(),
  description: z.string().nullish(),
  parameters: JsonSchemaField.nullish(),
  strict: z.boolean().nullish(),
});

const ToolChoice = z.union([z.enum(["auto", "none", "required"]), z.looseObject({ type: z.string(), name: z.string().optional() })]);

const TextFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  JsonSchemaFormat.extend({ type: z.literal("json_schema") }),
]);

export const ResponsesRequest = z.looseObject({
  model: z.string().min(1).max(256),
  input: z.union([z.string(), z.array(InputItem)]),
  instructions: z.string().nullish(),
  previous_response_id: z.string().max(128).nullish(),
  tools: z.array(Tool).nullish(),
  tool_choice: ToolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  stream: z.boolean().nullish(),
  /** Kept for previous_response_id and GET unless false (OpenAI's default is true). */
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  text: z.looseObject({ format: TextFormat.optional(), verbosity: z.string().nullish() }).nullish(),
  // Accepted with no effect on the answer: identifiers for abuse tracking and a cache hint.
  user: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
  // Refused unless left at what rbee does anyway (to-chat.ts).
  background: z.boolean().nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish(), summary: z.string().nullish() }).nullish(),
  include: z.array(z.string()).nullish(),
  truncation: z.string().nullish(),
  top_logprobs: z.number().int().nullish(),
  max_tool_calls: z.number().int().nullish(),
  service_tier: z.string().nullish(),
  conversation: z.unknown().optional(),
  prompt: z.unknown().optional(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequest>;

/** POST /v1/responses/input_tokens: the prompt of a Responses request, to be counted; its `input` may be left out (previous_response_id's conversation, instructions). */
export const InputTokenCountRequest = ResponsesRequest.extend({ input: ResponsesRequest.shape.input.optional() });
