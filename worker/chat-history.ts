// Turns OpenAI chat messages into node-llama-cpp chat history, which the model's own chat
// template wrapper then renders into the prompt; the engine calls it for every request. An
// assistant message's tool calls become function calls of the model's response, each with the
// result from the `tool` message that answers it, so multi-step agent loops render as the
// model's own chat format writes calls and results.
import { isChatModelResponseFunctionCall, type ChatHistoryItem, type ChatModelFunctionCall, type ChatModelResponse } from "node-llama-cpp";
import { RbeeError } from "../shared/errors.js";
import { messageText, type AssistantMessage, type ChatMessage, type ToolMessage } from "../shared/openai/chat-request.js";

/**
 * History ending in a model response: an empty one to be generated, or the client's own
 * assistant message, which the model then continues (a "prefill", or the answer after tool results).
 */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index];
    if (message === undefined) break;
    switch (message.role) {
      case "system":
      case "developer":
        history.push({ type: "system", text: messageText(message) });
        break;
      case "user":
        history.push({ type: "user", text: messageText(message) });
        break;
      case "assistant": {
        let results = 0;
        while (messages[index + 1 + results]?.role === "tool") results++;
        const answers = messages.slice(index + 1, index + 1 + results) as ToolMessage[];
        addModelResponse(history, modelResponse(message, index, answers));
        index += results;
        break;
      }
      case "tool":
        throw new RbeeError(400, "invalid_request", `messages[${index}]: a tool message must follow the assistant message whose tool call it answers`, {
          param: `messages[${index}].role`,
        });
    }
  }
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}

/** The assistant's text and tool calls, each call with the result of the tool message answering it. */
function modelResponse(message: AssistantMessage, index: number, answers: readonly ToolMessage[]): ChatModelResponse["response"] {
  const response: ChatModelResponse["response"] = [];
  const text = messageText(message);
  if (text !== "") response.push(text);
  const unanswered = new Map(answers.map((answer, offset) => [answer.tool_call_id, { answer, offset }]));
  const calls = message.tool_calls ?? [];
  for (const [callIndex, call] of calls.entries()) {
    if (calls.findIndex((other) => other.id === call.id) < callIndex) {
      throw new RbeeError(400, "invalid_request", `messages[${index}].tool_calls[${callIndex}].id: tool call id ${JSON.stringify(call.id)} is given twice in this message; each call needs its own id`, {
        param: `messages[${index}].tool_calls[${callIndex}].id`,
      });
    }
    const answered = unanswered.get(call.id);
    if (answered === undefined) {
      throw new RbeeError(400, "invalid_request", `messages[${index}].tool_calls[${callIndex}]: no tool message answers tool call ${JSON.stringify(call.id)}`, {
        param: `messages[${index}].tool_calls[${callIndex}].id`,
      });
    }
    unanswered.delete(call.id);
    const functionCall: ChatModelFunctionCall = {
      type: "functionCall",
      name: call.function.name,
      // No arguments at all render as the format's call without parameters.
      params: call.function.arguments.trim() === "" ? undefined : jsonOrText(call.function.arguments),
      result: jsonOrText(messageText(answered.answer)),
    };
    response.push(functionCall);
  }
  const [stray] = unanswered.values();
  if (stray !== undefined) {
    const at = index + 1 + stray.offset;
    throw new RbeeError(400, "invalid_request", `messages[${at}].tool_call_id: no tool call ${JSON.stringify(stray.answer.tool_call_id)} in the assistant message before it`, {
      param: `messages[${at}].tool_call_id`,
    });
  }
  return response;
}

/**
 * After tool results the model goes on in the same response (that is how node-llama-cpp's chat
 * formats write a call, its result and the answer), so an assistant message following them joins it.
 */
function addModelResponse(history: ChatHistoryItem[], response: ChatModelResponse["response"]): void {
  const last = history.at(-1);
  if (last?.type === "model" && isChatModelResponseFunctionCall(last.response.at(-1))) {
    last.response.push(...response);
    return;
  }
  history.push({ type: "model", response });
}

/**
 * A call's arguments, or a tool's result, as the chat format shows them: their JSON where the text
 * is JSON, else the text itself. OpenAI takes any text as a call's arguments, and a client sends
 * back what it was given: a call that max_tokens cut (`{"city"`) is part of its conversation too.
 */
function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
