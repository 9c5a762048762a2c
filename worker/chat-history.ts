// Turns OpenAI chat messages into node-llama-cpp chat history, which the model's own chat
// template wrapper then renders into the prompt; the engine calls it for every request.
import type { ChatHistoryItem } from "node-llama-cpp";
import { RbeeError } from "../shared/errors.js";
import { messageText, type ChatMessage } from "../shared/openai/chat-request.js";

/**
 * History ending in a model response: an empty one to be generated, or the client's own
 * assistant message, which the model then continues (a "prefill").
 */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message, index): ChatHistoryItem => {
    const text = messageText(message);
    switch (message.role) {
      case "system":
      case "developer":
        return { type: "system", text };
      case "user":
        return { type: "user", text };
      case "assistant":
        return { type: "model", response: [text] };
      case "tool":
        // Rendering a tool result needs the function call that asked for it, which this worker
        // does not support yet; refusing beats silently templating it as something else.
        throw new RbeeError(400, "unsupported_message", "Tool messages are not supported by this worker", {
          param: `messages[${index}].role`,
        });
    }
  });
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}
