// Anthropic's rule for a tool loop, checked on the Messages request itself so that a mistake is
// named where the client made it: each tool_result answers a tool_use of the assistant message just
// before it, and each tool_use is answered by a tool_result in the user message just after. The
// worker checks the same of the chat request it gets (worker/chat-history.ts), but names that
// request's messages, which a system prompt shifts by one.
import { RbeeError } from "../../../shared/errors.js";
import type { AnthropicMessage } from "./request.js";

export function checkToolPairing(messages: readonly AnthropicMessage[]): void {
  // Stray results first: a result with a mistyped id leaves its tool_use unanswered too, and the
  // result is the mistake to name.
  messages.forEach((message, index) => {
    const before = messages[index - 1];
    const asked = before?.role === "assistant" ? blockIds(before, "tool_use") : new Set<string>();
    for (const [blockIndex, id] of blocksOf(message, "tool_result")) {
      if (message.role === "user" && !asked.has(id)) {
        const param = `messages[${index}].content[${blockIndex}].tool_use_id`;
        throw new RbeeError(400, "invalid_request", `${param}: no tool_use ${JSON.stringify(id)} in the assistant message before it; each tool_result answers a tool_use of the message just before`, { param });
      }
    }
  });
  messages.forEach((message, index) => {
    if (message.role !== "assistant") return;
    const uses = blocksOf(message, "tool_use");
    for (const [position, [blockIndex, id]] of uses.entries()) {
      if (uses.findIndex(([, other]) => other === id) < position) {
        const param = `messages[${index}].content[${blockIndex}].id`;
        throw new RbeeError(400, "invalid_request", `${param}: tool_use id ${JSON.stringify(id)} is used twice in this message; tool_use ids must be unique`, { param });
      }
    }
    const after = messages[index + 1];
    const answered = after?.role === "user" ? blockIds(after, "tool_result") : new Set<string>();
    for (const [blockIndex, id] of uses) {
      if (!answered.has(id)) {
        const param = `messages[${index}].content[${blockIndex}].id`;
        throw new RbeeError(400, "invalid_request", `${param}: tool_use ${JSON.stringify(id)} has no tool_result in the user message after it; each tool_use must be answered there`, { param });
      }
    }
  });
}

/** `message`'s blocks of `type` as [their index, the tool_use id they carry] (a tool_use's `id`, a tool_result's `tool_use_id`). */
function blocksOf(message: AnthropicMessage, type: "tool_use" | "tool_result"): Array<[number, string]> {
  if (typeof message.content === "string") return [];
  return message.content.flatMap((block, index): Array<[number, string]> => {
    if (block.type === "tool_use" && type === "tool_use") return [[index, block.id]];
    if (block.type === "tool_result" && type === "tool_result") return [[index, block.tool_use_id]];
    return [];
  });
}

function blockIds(message: AnthropicMessage, type: "tool_use" | "tool_result"): Set<string> {
  return new Set(blocksOf(message, type).map(([, id]) => id));
}
