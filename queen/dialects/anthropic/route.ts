// POST /v1/messages (Anthropic Messages) and POST /v1/messages/count_tokens: the request is
// translated into a chat completion (to-chat.ts) and placed through the same relay core as
// /v1/chat/completions (routes/inference-relay.ts), and the answer translated back, whole or as
// Anthropic's stream. Errors take Anthropic's shape (errors.ts, mounted in app.ts for the path).
import { Hono } from "hono";
import { ChatCompletionRequest } from "../../../shared/openai/chat-request.js";
import { ignoredFieldsHeader } from "../../../shared/openai/ignored-fields.js";
import { parseRequest } from "../../../shared/validation.js";
import type { QueenEnv } from "../../env.js";
import { readJson } from "../../http/read-json.js";
import { relayInference } from "../../routes/inference-relay.js";
import { noteAskedModel } from "../../observability/inference-outcome.js";
import { meterUsage } from "../../usage/meter-usage.js";
import { translateAnswer } from "../dialect-answer.js";
import { countPromptTokens } from "../prompt-tokens.js";
import { messageFromChat } from "./from-chat.js";
import { CountTokensRequest, MessagesRequest } from "./request.js";
import { anthropicStreamWriter } from "./stream.js";
import { messagesToChat, promptToChat } from "./to-chat.js";

export const anthropicRoutes = new Hono<QueenEnv>()
  .use(meterUsage)
  .post("/", async (c) => {
    const arrivedAtMs = Date.now();
    const body = await readJson(c);
    noteAskedModel(c, body);
    const request = parseRequest(MessagesRequest, body);
    const chat = parseRequest(ChatCompletionRequest, messagesToChat(request));
    const answer = await relayInference(c, chat, "/v1/chat/completions", arrivedAtMs, ignoredFieldsHeader(MessagesRequest, body));
    return translateAnswer(answer, {
      json: (completion) => messageFromChat(completion, request.model),
      stream: (emit, promptTokens) => anthropicStreamWriter(emit, request.model, promptTokens),
    });
  })
  // The exact count, generating nothing (../prompt-tokens.ts).
  .post("/count_tokens", async (c) => {
    const arrivedAtMs = Date.now();
    const request = parseRequest(CountTokensRequest, await readJson(c));
    const counted = await countPromptTokens(c, promptToChat(request), arrivedAtMs);
    return counted.ok ? c.json({ input_tokens: counted.tokens }) : counted.answer;
  });
