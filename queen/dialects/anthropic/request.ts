// The Anthropic Messages request (POST /v1/messages, /v1/messages/count_tokens) as the queen
// accepts it. Every content-block and tool type Anthropic documents is named here: the ones rbee
// serves are parsed, the others are parsed only to be refused by name (to-chat.ts); a type
// nobody documents is a validation error listing the known ones.
import { z } from "zod";
import { JsonSchemaField } from "../../../shared/openai/json-schema-field.js";

const CacheControl = { cache_control: z.unknown().optional() };

// Anthropic refuses an empty text block, and so does rbee: the chat format renders it as nothing
// at all. (Anthropic refuses a block of whitespace alone too; rbee takes one, for a local model may
// write "\n\n" before a tool call, and an agent sends that block back.)
const TextBlock = z.looseObject({
  type: z.literal("text"),
  text: z.string().min(1, "text content blocks must be non-empty"),
  ...CacheControl,
});

const ToolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  /** The call's arguments: an object, as Anthropic requires (a tool's input_schema describes one). */
  input: z.record(z.string(), z.unknown(), { error: "input must be an object: the tool's arguments" }).optional(),
  ...CacheControl,
});

const ToolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))]).optional(),
  is_error: z.boolean().optional(),
  ...CacheControl,
});

/** Block types Anthropic has that rbee refuses (to-chat.ts says why for each). */
export const REFUSED_BLOCK_TYPES = [
  "image",
  "document",
  "search_result",
  "thinking",
  "redacted_thinking",
  "server_tool_use",
  "web_search_tool_result",
  "web_fetch_tool_result",
  "code_execution_tool_result",
  "container_upload",
  "mcp_tool_use",
  "mcp_tool_result",
] as const;
const RefusedBlock = z.looseObject({ type: z.enum(REFUSED_BLOCK_TYPES) });

export const ContentBlock = z.discriminatedUnion("type", [TextBlock, ToolUseBlock, ToolResultBlock, RefusedBlock]);
export type ContentBlock = z.infer<typeof ContentBlock>;

const Message = z.looseObject({
  // Claude Code also sends system messages between the turns (context it adds as it goes).
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(ContentBlock)]),
});
export type AnthropicMessage = z.infer<typeof Message>;

/** A client tool (`type` absent or "custom"); server tools (web_search_…, bash_…) are refused. */
const Tool = z.looseObject({
  type: z.string().optional(),
  name: z.string().min(1).max(128),
  description: z.string().optional(),
  input_schema: JsonSchemaField.optional(),
  /** Structured outputs: the input follows input_schema whole, or the request is refused (as chat's strict tools). */
  strict: z.boolean().optional(),
  ...CacheControl,
});

const ToolChoice = z.looseObject({
  type: z.enum(["auto", "any", "tool", "none"]),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

/** Structured outputs: the answer's text is JSON that `schema` describes, whole. */
const OutputFormat = z.object({
  type: z.literal("json_schema", { error: 'rbee serves structured outputs of type "json_schema"' }),
  schema: JsonSchemaField,
});

const MessagesFields = {
  model: z.string().min(1).max(256),
  messages: z.array(Message).min(1, "must hold at least one message"),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
  /** Refused unless disabled or adaptive (to-chat.ts). */
  thinking: z.looseObject({ type: z.string() }).nullish(),
  mcp_servers: z.array(z.unknown()).nullish(),
  container: z.unknown().optional(),
  /** Refused unless it only clears thinking (to-chat.ts). */
  context_management: z.looseObject({ edits: z.array(z.looseObject({ type: z.string() })).optional() }).nullish(),
  /**
   * `effort`: how hard a Claude model works; accepted, no effect on a local model. `format`:
   * structured outputs, the answer's text JSON of its schema (to-chat.ts).
   */
  output_config: z.looseObject({ effort: z.string().optional(), format: OutputFormat.nullish() }).nullish(),
  /** The structured-outputs beta's name for output_config.format. */
  output_format: OutputFormat.nullish(),
};

export const MessagesRequest = z.looseObject({
  ...MessagesFields,
  max_tokens: z.number().int().positive(),
  /** Chat completions take up to four stop strings. */
  stop_sequences: z.array(z.string()).max(4, "rbee takes at most 4 stop sequences").optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  /** Anthropic's `user_id` for abuse tracking: accepted, nothing to do with it here. */
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  service_tier: z.enum(["auto", "standard_only"]).optional(),
});
export type MessagesRequest = z.infer<typeof MessagesRequest>;

/** count_tokens takes the prompt fields only. */
export const CountTokensRequest = z.looseObject(MessagesFields);
export type CountTokensRequest = z.infer<typeof CountTokensRequest>;
