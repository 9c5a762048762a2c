// Translates a Responses request into the chat-completion request rbee's workers serve: the
// instructions become the first system message, the stored conversation of previous_response_id
// comes next, then this request's input items (messages, function_call items merged into the
// assistant turn's `tool_calls`, function_call_output items as `tool` messages); tools,
// tool_choice, text.format and sampling map to their chat names. What rbee cannot honour is
// refused by name.
import { RbeeError } from "../../../shared/errors.js";
import type { ChatMessageOut, ChatRequestOut, ChatTool, ChatToolChoice } from "../chat-shapes.js";
import { unsupportedField } from "../dialect-answer.js";
import type { InputItem, ResponsesRequest } from "./request.js";

/** This request's input as items, a string input being one user message: what is stored with the response. */
export function inputItemsOf(request: ResponsesRequest): InputItem[] {
  return typeof request.input === "string" ? [{ type: "message", role: "user", content: request.input }] : request.input;
}

/** The chat request for `request`, after the conversation `previousItems` (empty without previous_response_id). */
export function responsesToChat(request: ResponsesRequest, previousItems: readonly InputItem[]): ChatRequestOut {
  refuseUnsupportedFields(request);
  const messages: ChatMessageOut[] = [];
  if (request.instructions) messages.push({ role: "system", content: request.instructions });
  const items: Array<[InputItem, string]> = [
    ...previousItems.map((item, index): [InputItem, string] => [item, `previous_response_id (item ${index})`]),
    ...inputItemsOf(request).map((item, index): [InputItem, string] => [item, typeof request.input === "string" ? "input" : `input[${index}]`]),
  ];
  for (const [item, path] of items) appendItem(messages, item, path);
  checkCallsAnswered(items);
  const chat: ChatRequestOut = { model: request.model, messages };
  if (request.tools && request.tools.length > 0) chat.tools = request.tools.map((tool, index) => toolToChat(tool, index));
  if (request.tool_choice) chat.tool_choice = toolChoiceToChat(request.tool_choice);
  if (request.parallel_tool_calls !== undefined && request.parallel_tool_calls !== null) chat.parallel_tool_calls = request.parallel_tool_calls;
  if (request.max_output_tokens) chat.max_tokens = request.max_output_tokens;
  if (request.temperature !== undefined && request.temperature !== null) chat.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) chat.top_p = request.top_p;
  const format = request.text?.format;
  if (format?.type === "json_schema") {
    const { type: _flat, ...jsonSchema } = format; // Responses flattens what chat nests under json_schema
    chat.response_format = { type: "json_schema", json_schema: jsonSchema };
  } else if (format !== undefined) chat.response_format = format;
  if (request.stream) {
    chat.stream = true;
    // response.completed carries the usage.
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

function refuseUnsupportedFields(request: ResponsesRequest): void {
  if (request.background) throw unsupportedField("background", "rbee answers while the client waits; leave background out");
  const reasoning = request.reasoning;
  if (reasoning && ((reasoning.effort && reasoning.effort !== "none") || reasoning.summary)) {
    throw unsupportedField("reasoning", "rbee's models do not run a separate reasoning phase; leave reasoning out (or effort 'none')");
  }
  if (request.include && request.include.length > 0) throw unsupportedField("include", `rbee has none of [${request.include.join(", ")}] to include`);
  if (request.truncation && request.truncation !== "disabled") throw unsupportedField("truncation", "rbee does not drop conversation items to fit the context; only 'disabled'");
  if (request.top_logprobs) throw unsupportedField("top_logprobs", "rbee does not return log probabilities");
  if (request.max_tool_calls !== undefined && request.max_tool_calls !== null) throw unsupportedField("max_tool_calls", "rbee runs no built-in tools to cap");
  if (request.service_tier && !["auto", "default"].includes(request.service_tier)) throw unsupportedField("service_tier", "rbee has one tier ('auto')");
  if (request.conversation !== undefined && request.conversation !== null) throw unsupportedField("conversation", "rbee keeps no conversation objects; use previous_response_id");
  if (request.prompt !== undefined && request.prompt !== null) throw unsupportedField("prompt", "rbee has no stored prompt templates");
  const verbosity = request.text?.verbosity;
  if (verbosity && verbosity !== "medium") throw unsupportedField("text.verbosity", "rbee's models have one verbosity ('medium')");
}

function appendItem(messages: ChatMessageOut[], item: InputItem, path: string): void {
  switch (item.type) {
    case "message": {
      const content = partsText(item.content, `${path}.content`);
      messages.push(item.role === "assistant" ? { role: "assistant", content } : { role: item.role, content });
      return;
    }
    case "function_call": {
      const call = { id: item.call_id, type: "function" as const, function: { name: item.name, arguments: item.arguments } };
      const last = messages.at(-1);
      // A model turn's text and its calls are one assistant message in chat.
      if (last?.role === "assistant") last.tool_calls = [...(last.tool_calls ?? []), call];
      else messages.push({ role: "assistant", content: null, tool_calls: [call] });
      return;
    }
    case "function_call_output":
      if (!messages.some((message) => message.role === "assistant" && message.tool_calls?.some((call) => call.id === item.call_id))) {
        const where = path.startsWith("previous_response_id") ? "in the stored conversation" : "in the input or the conversation of previous_response_id";
        throw new RbeeError(400, "invalid_request", `${path}: no function_call with call_id '${item.call_id}' comes before this function_call_output ${where}`, { param: `${path}.call_id` });
      }
      messages.push({ role: "tool", tool_call_id: item.call_id, content: partsText(item.output, `${path}.output`) });
      return;
    default:
      throw unsupportedField(`${path}.type`, `'${item.type}' items belong to OpenAI's hosted tools or reasoning models; rbee serves messages and function calls`);
  }
}

/**
 * OpenAI's rule: each function_call is answered by a function_call_output (a stray output is
 * refused by appendItem). Checked here, where the item can be named: the worker's own check
 * names the chat request's messages, which the instructions and the stored conversation shift.
 */
function checkCallsAnswered(items: ReadonlyArray<[InputItem, string]>): void {
  const answered = new Set(items.flatMap(([item]) => (item.type === "function_call_output" ? [item.call_id] : [])));
  for (const [item, path] of items) {
    if (item.type === "function_call" && !answered.has(item.call_id)) {
      throw new RbeeError(400, "invalid_request", `${path}: no function_call_output answers this function_call (call_id '${item.call_id}'); send one for each call`, { param: `${path}.call_id` });
    }
  }
}

function partsText(content: Extract<InputItem, { type: "message" }>["content"], path: string): string {
  if (typeof content === "string") return content;
  return content
    .map((part, index) => {
      switch (part.type) {
        case "input_text":
        case "output_text":
          return part.text;
        case "refusal":
          return part.refusal;
        default:
          throw unsupportedField(`${path}[${index}].type`, `'${part.type}' parts: rbee's models read text only`);
      }
    })
    .join("");
}

function toolToChat(tool: NonNullable<ResponsesRequest["tools"]>[number], index: number): ChatTool {
  if (tool.type !== "function") throw unsupportedField(`tools[${index}].type`, `'${tool.type}' is one of OpenAI's hosted tools; rbee serves function tools`);
  if (tool.name === undefined) throw unsupportedField(`tools[${index}].name`, "a function tool needs a name");
  const fn: ChatTool["function"] = { name: tool.name, parameters: tool.parameters ?? { type: "object" } };
  if (tool.description) fn.description = tool.description;
  if (tool.strict !== undefined && tool.strict !== null) fn.strict = tool.strict;
  return { type: "function", function: fn };
}

function toolChoiceToChat(choice: NonNullable<ResponsesRequest["tool_choice"]>): ChatToolChoice {
  if (typeof choice === "string") return choice;
  if (choice.type === "function" && choice.name !== undefined) return { type: "function", function: { name: choice.name } };
  throw unsupportedField("tool_choice", `'${choice.type}' choices: rbee takes auto, none, required or {type:'function', name}`);
}
