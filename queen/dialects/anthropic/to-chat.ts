// Translates an Anthropic Messages request into the chat-completion request rbee's workers serve:
// the system prompt becomes a system message, text blocks become message text, an assistant's
// tool_use blocks become its `tool_calls`, a user's tool_result blocks become `tool` messages
// (placed first: they answer the assistant turn just before), and tools, tool_choice, stop
// sequences and sampling map to their chat names. What rbee cannot honour is refused by name.
import type { ChatMessageOut, ChatRequestOut, ChatTool, ChatToolCall, ChatToolChoice } from "../chat-shapes.js";
import { unsupportedField } from "../dialect-answer.js";
import type { AnthropicMessage, ContentBlock, CountTokensRequest, MessagesRequest } from "./request.js";
import { checkToolPairing } from "./tool-pairing.js";

const REFUSAL_REASONS: Record<string, string> = {
  image: "rbee's models read text only (no vision)",
  document: "rbee's models read text only (no document parsing)",
  thinking: "rbee does not run extended thinking, so it has no thinking blocks to take back",
  redacted_thinking: "rbee does not run extended thinking, so it has no thinking blocks to take back",
};

export function messagesToChat(request: MessagesRequest): ChatRequestOut {
  const chat = promptToChat(request);
  chat.max_tokens = request.max_tokens;
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0) chat.stop = request.stop_sequences;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (request.top_k !== undefined) chat.top_k = request.top_k;
  // Anthropic's structured outputs are always enforced: a strict schema, or a 400 naming what cannot be.
  const format = request.output_config?.format ?? request.output_format;
  if (format) chat.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema, strict: true } };
  if (request.stream) {
    chat.stream = true;
    // Anthropic's closing message_delta carries the usage.
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

/** The prompt part (system, messages, tools), shared by messages and count_tokens. */
export function promptToChat(request: CountTokensRequest): ChatRequestOut {
  refuseUnsupportedFields(request);
  checkToolPairing(request.messages);
  const messages: ChatMessageOut[] = [];
  const system = request.system === undefined ? "" : typeof request.system === "string" ? request.system : request.system.map((block) => block.text).join("\n");
  if (system !== "") messages.push({ role: "system", content: system });
  request.messages.forEach((message, index) => messages.push(...messageToChat(message, `messages[${index}]`)));
  const chat: ChatRequestOut = { model: request.model, messages };
  if (request.tools !== undefined && request.tools.length > 0) chat.tools = request.tools.map((tool, index) => toolToChat(tool, index));
  if (request.tool_choice !== undefined) {
    chat.tool_choice = toolChoiceToChat(request.tool_choice);
    if (request.tool_choice.disable_parallel_tool_use !== undefined) chat.parallel_tool_calls = !request.tool_choice.disable_parallel_tool_use;
  }
  return chat;
}

function refuseUnsupportedFields(request: CountTokensRequest): void {
  // "adaptive" lets the model decide whether to think: one that does not think satisfies it.
  if (request.thinking && request.thinking.type !== "disabled" && request.thinking.type !== "adaptive") {
    throw unsupportedField("thinking", "rbee does not run extended thinking; leave it out, disable it or make it adaptive");
  }
  if (request.mcp_servers && request.mcp_servers.length > 0) throw unsupportedField("mcp_servers", "rbee does not connect to MCP servers; run the tools on the client");
  if (request.container !== undefined && request.container !== null) throw unsupportedField("container", "rbee runs no code-execution containers");
  // Clearing thinking blocks is a no-op where none are made; any other edit would change the prompt.
  const edits = request.context_management?.edits ?? [];
  const edit = edits.findIndex((each) => !each.type.startsWith("clear_thinking"));
  if (edit >= 0) throw unsupportedField(`context_management.edits[${edit}].type`, "rbee does not edit the context for the client; only clearing thinking (a no-op here) is accepted");
}

function messageToChat(message: AnthropicMessage, path: string): ChatMessageOut[] {
  if (typeof message.content === "string") return [{ role: message.role, content: message.content }];
  const texts: string[] = [];
  const toolCalls: ChatToolCall[] = [];
  const toolResults: ChatMessageOut[] = [];
  message.content.forEach((block, index) => {
    const blockPath = `${path}.content[${index}]`;
    switch (block.type) {
      case "text":
        texts.push(block.text);
        break;
      case "tool_use":
        if (message.role !== "assistant") throw unsupportedField(`${blockPath}.type`, "tool_use blocks belong in assistant messages");
        toolCalls.push({ id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
        break;
      case "tool_result":
        if (message.role !== "user") throw unsupportedField(`${blockPath}.type`, "tool_result blocks belong in user messages");
        toolResults.push({ role: "tool", tool_call_id: block.tool_use_id, content: toolResultText(block, blockPath) });
        break;
      default:
        throw unsupportedField(`${blockPath}.type`, `'${block.type}' blocks: ${REFUSAL_REASONS[block.type] ?? "they need Anthropic's own servers"}`);
    }
  });
  const text = texts.join("\n");
  if (message.role === "system") return [{ role: "system", content: text }];
  if (message.role === "assistant") {
    return [{ role: "assistant", content: text === "" && toolCalls.length > 0 ? null : text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) }];
  }
  // Tool results answer the assistant turn just before, so they come before the user's own text.
  return text === "" && toolResults.length > 0 ? toolResults : [...toolResults, { role: "user", content: text }];
}

function toolResultText(block: Extract<ContentBlock, { type: "tool_result" }>, path: string): string {
  let text = "";
  if (typeof block.content === "string") text = block.content;
  else if (block.content !== undefined) {
    text = block.content
      .map((part, index) => {
        if (part.type !== "text" || part.text === undefined) throw unsupportedField(`${path}.content[${index}].type`, `'${part.type}' in a tool result: rbee's models read text only`);
        return part.text;
      })
      .join("\n");
  }
  // Chat's tool message has no error flag: the model is told in words.
  return block.is_error ? `Error: ${text}` : text;
}

function toolToChat(tool: NonNullable<CountTokensRequest["tools"]>[number], index: number): ChatTool {
  if (tool.type !== undefined && tool.type !== "custom") {
    throw unsupportedField(`tools[${index}].type`, `'${tool.type}' is one of Anthropic's server tools; rbee serves client tools (name, description, input_schema)`);
  }
  return {
    type: "function",
    function: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.input_schema ?? { type: "object" },
      ...(tool.strict === undefined ? {} : { strict: tool.strict }),
    },
  };
}

function toolChoiceToChat(choice: NonNullable<CountTokensRequest["tool_choice"]>): ChatToolChoice {
  switch (choice.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      if (choice.name === undefined) throw unsupportedField("tool_choice.name", "a tool_choice of type 'tool' needs the tool's name");
      return { type: "function", function: { name: choice.name } };
  }
}
