// POST /v1/chat/completions/input_tokens: how many tokens a chat request's prompt is, templated as
// the model reads it, tools and all, without generating (the queen's Anthropic count_tokens asks
// it). Shaped like OpenAI's POST /v1/responses/input_tokens. It takes no slot, so a count does not
// wait behind generations, and it counts a prompt longer than the context too.
import { ChatCompletionRequest } from "../../shared/openai/chat-request.js";
import { readJsonBody } from "../../shared/http/json-body.js";
import { parseRequest } from "../../shared/validation.js";
import type { RouteHandler } from "./route-context.js";

export const chatInputTokens: RouteHandler = async (c, context) => {
  const request = parseRequest(ChatCompletionRequest, await readJsonBody(c));
  return c.json({ object: "chat.completion.input_tokens", input_tokens: context.engine.countChatTokens(request) });
};
