// Turns the tools of an OpenAI chat request into node-llama-cpp's function definitions, checking
// first that the grammar can enforce every parameters schema (a 400 naming the tool and the
// unsupported keyword otherwise, as for response_format), and reads tool_choice and
// parallel_tool_calls into how the engine generates. Each schema is normalized first
// (schema-normalizer.ts: `anyOf`, `definitions`, pointers…); a tool that is not `strict` has what
// the grammar cannot enforce relaxed (relaxed-schema.ts): its arguments keep the schema's structure. The engine
// calls it for every chat request.
import type { ChatModelFunctions, GbnfJsonSchema } from "node-llama-cpp";
import { RbeeError } from "../shared/errors.js";
import { offersTools, type ChatCompletionRequest } from "../shared/openai/chat-request.js";
import { findUnsupportedSchemaPart } from "./json-schema-support.js";
import { schemaAsAsked } from "./relaxed-schema.js";
import { asGeneratorSchema } from "./schema-normalizer.js";

export interface ToolFunctions {
  /** The functions offered to the model: all tools, or only the one tool_choice names. */
  functions: ChatModelFunctions;
  /** The model must call one of them (tool_choice "required" or a named function). */
  mustCall: boolean;
  /** 1 when parallel_tool_calls is false; undefined: as many as the chat format allows. */
  maxParallelCalls: number | undefined;
  /**
   * The one function a forced call can name (tool_choice names it, or only one tool is offered):
   * a call cut by max_tokens before its name was whole is still known to be a call of it.
   */
  forcedName: string | undefined;
}

/** How a request uses tools; undefined when it offers none (no tools, or tool_choice "none"). */
export function toolFunctions(request: Pick<ChatCompletionRequest, "tools" | "tool_choice" | "parallel_tool_calls">): ToolFunctions | undefined {
  if (!offersTools(request)) return undefined;
  const choice = request.tool_choice;
  const functions: Record<string, { description?: string; params?: GbnfJsonSchema }> = {};
  for (const [index, { function: definition }] of (request.tools ?? []).entries()) {
    const parameters = definition.parameters == null ? undefined : schemaAsAsked(definition.parameters, definition.strict === true);
    // Every tool is checked, the one tool_choice names or not: a request is refused the same either way.
    if (parameters !== undefined) checkParameters(definition.name, parameters, `tools[${index}].function.parameters`);
    if (typeof choice === "object" && choice !== null && choice.function.name !== definition.name) continue;
    functions[definition.name] = {
      ...(definition.description == null ? {} : { description: definition.description }),
      // Checked above to be within what the grammar generator enforces; its type is far stricter than unknown JSON.
      ...(parameters === undefined ? {} : { params: asGeneratorSchema(parameters) as GbnfJsonSchema }),
    };
  }
  const mustCall = choice === "required" || (typeof choice === "object" && choice !== null);
  const names = Object.keys(functions);
  return {
    functions,
    mustCall,
    maxParallelCalls: request.parallel_tool_calls === false ? 1 : undefined,
    forcedName: mustCall && names.length === 1 ? names[0] : undefined,
  };
}

function checkParameters(toolName: string, schema: unknown, param: string): void {
  const unsupported = findUnsupportedSchemaPart(schema);
  if (!unsupported) return;
  const where = unsupported.path === "" ? param : `${param}.${unsupported.path}`;
  throw new RbeeError(400, "unsupported_json_schema", `Tool ${JSON.stringify(toolName)}: its parameters schema cannot be enforced: ${where}: ${unsupported.reason}`, {
    param,
  });
}
