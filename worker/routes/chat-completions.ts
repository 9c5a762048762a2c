// POST /v1/chat/completions: OpenAI chat, streamed or not, on one of the engine's slots.
import { ChatCompletionRequest } from "../../shared/openai/chat-request.js";
import { parseRequest } from "../../shared/validation.js";
import { chatCompletion, chatCompletionChunk, chatUsageChunk, newCompletionIdentity } from "../chat-completion-shapes.js";
import { readJsonBody } from "../http-body.js";
import { streamGeneration } from "./event-stream.js";
import { clientGoneSignal, sendJson, type RouteHandler } from "./route-context.js";

export const chatCompletions: RouteHandler = async (request, response, context) => {
  const chatRequest = parseRequest(ChatCompletionRequest, await readJsonBody(request));
  const signal = clientGoneSignal(response);
  const identity = newCompletionIdentity(context.modelName, "chatcmpl");

  if (chatRequest.stream) {
    const chunks = {
      opening: chatCompletionChunk(identity, { role: "assistant", content: "" }, null),
      text: (text: string) => chatCompletionChunk(identity, { content: text }, null),
      finish: (reason: "stop" | "length") => chatCompletionChunk(identity, {}, reason),
      usage: chatRequest.stream_options?.include_usage ? chatUsageChunk.bind(null, identity) : undefined,
    };
    return streamGeneration(response, chunks, (onTextChunk) => context.engine.chat(chatRequest, { signal, onTextChunk }), context);
  }
  const completion = await context.engine.chat(chatRequest, { signal });
  if (completion.finishReason === "abort") return;
  sendJson(response, 200, chatCompletion(identity, completion.text, completion.finishReason, completion.usage));
};
