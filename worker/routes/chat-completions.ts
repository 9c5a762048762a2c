// POST /v1/chat/completions: OpenAI chat, streamed or not, on one of the engine's slots; tool
// calls stream as `delta.tool_calls` pieces and end with finish_reason "tool_calls".
import { ChatCompletionRequest } from "../../shared/openai/chat-request.js";
import { readJsonBody } from "../../shared/http/json-body.js";
import { parseRequest } from "../../shared/validation.js";
import type { ChatToolCallDelta } from "../../shared/openai/chat-response.js";
import type { ClientFinishReason } from "../completion-result.js";
import { chatCompletion, chatCompletionChunk, chatUsageChunk, newCompletionIdentity } from "../chat-completion-shapes.js";
import { streamGeneration } from "./event-stream.js";
import { clientGoneSignal, nobodyListening, type RouteHandler } from "./route-context.js";

export const chatCompletions: RouteHandler = async (c, context) => {
  const chatRequest = parseRequest(ChatCompletionRequest, await readJsonBody(c));
  const signal = clientGoneSignal(c);
  const identity = newCompletionIdentity(context.modelName, "chatcmpl");

  if (chatRequest.stream) {
    const chunks = {
      // As OpenAI: an answer that begins with a tool call has no text, not an empty one.
      opening: (first: "text" | "tool_call") => chatCompletionChunk(identity, { role: "assistant", content: first === "text" ? "" : null }, null),
      text: (text: string) => chatCompletionChunk(identity, { content: text }, null),
      toolCall: (delta: ChatToolCallDelta) => chatCompletionChunk(identity, { tool_calls: [delta] }, null),
      finish: (reason: ClientFinishReason, stopSequence: string | undefined) => chatCompletionChunk(identity, {}, reason, stopSequence),
      usage: chatRequest.stream_options?.include_usage ? chatUsageChunk.bind(null, identity) : undefined,
    };
    return streamGeneration(c, chunks, (streaming) => context.engine.chat(chatRequest, { signal, ...streaming }), context);
  }
  const completion = await context.engine.chat(chatRequest, { signal });
  if (completion.finishReason === "abort") return nobodyListening(c);
  return c.json(chatCompletion(identity, completion.text, completion.toolCalls, completion.finishReason, completion.usage, completion.stopSequence));
};
