// The tool-calling parts of the OpenAI chat API, as rbee accepts and answers them: the tools a
// request offers, how it lets the model choose among them, and the calls an answer makes. The
// chat request and response schemas build on these; so do the queen's translations of other
// API dialects (Responses, Anthropic Messages), which map their own tool shapes onto these.
import { z } from "zod";
import { JsonSchemaField } from "./json-schema-field.js";

/** OpenAI's rule for function names; node-llama-cpp also needs them free of spaces. */
export const ToolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1–64 letters, digits, _ or -");

/** A function the model may call. `parameters` is a JSON Schema for its arguments object. */
export const ChatFunctionDefinition = z.object({
  name: ToolName,
  description: z.string().nullish(),
  /** The worker enforces it with a grammar, and refuses (400) the parts a grammar cannot enforce. */
  parameters: JsonSchemaField.nullish(),
  /** Arguments always follow the schema here, strict or not: they are generated under its grammar. */
  strict: z.boolean().nullish(),
});
export type ChatFunctionDefinition = z.infer<typeof ChatFunctionDefinition>;

export const ChatTool = z.object({
  type: z.literal("function", { error: 'only tools of type "function" are supported' }),
  function: ChatFunctionDefinition,
});
export type ChatTool = z.infer<typeof ChatTool>;

export const NamedToolChoice = z.object({ type: z.literal("function"), function: z.object({ name: ToolName }) });
export type NamedToolChoice = z.infer<typeof NamedToolChoice>;

/**
 * `none`: answer in text, no tool offered; `auto`: the model decides; `required`: it must call
 * one of the tools; a named function: it must call that one. A choice of another type OpenAI has
 * (`allowed_tools`, `custom`) is refused by its type; any other mistake keeps zod's own words.
 */
export const ChatToolChoice = z.union([z.enum(["none", "auto", "required"]), NamedToolChoice], {
  error: (issue) => {
    const type = typeof issue.input === "object" && issue.input !== null ? (issue.input as { type?: unknown }).type : undefined;
    if (typeof type !== "string" || type === "function") return undefined;
    return `not supported: ${JSON.stringify(type)} tool choices; rbee takes "none", "auto", "required" or {"type": "function", "function": {"name": …}}`;
  },
});
export type ChatToolChoice = z.infer<typeof ChatToolChoice>;

/** One call the model made: `arguments` is the JSON text of the arguments object. */
export const ChatToolCall = z.object({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.object({ name: ToolName, arguments: z.string() }),
});
export type ChatToolCall = z.infer<typeof ChatToolCall>;

/** The prefix of tool-call ids rbee makes (`call_…`), as OpenAI's. */
export const TOOL_CALL_ID_PREFIX = "call_";
