// The OpenAI inference routes (chat completions, completions, embeddings): each validates its
// request and relays it as it is through the shared relay core (inference-relay.ts: lease,
// relay, failover, error redaction, headers). Every request is counted, with its tokens, for the
// API key that made it (usage/meter-usage), a stream's too when its client did not ask for them
// (usage/unasked-usage).
import { Hono } from "hono";
import type { z } from "zod";
import { ChatCompletionRequest } from "../../shared/openai/chat-request.js";
import { CompletionRequest } from "../../shared/openai/completion-request.js";
import { EmbeddingRequest } from "../../shared/openai/embedding-request.js";
import { ignoredFieldsHeader } from "../../shared/openai/ignored-fields.js";
import type { RelayablePath } from "../../shared/protocol/hive-frames.js";
import { parseRequest } from "../../shared/validation.js";
import type { QueenEnv } from "../env.js";
import { readJson } from "../http/read-json.js";
import { noteAskedModel } from "../observability/inference-outcome.js";
import { meterUsage } from "../usage/meter-usage.js";
import { askingForUsage } from "../usage/unasked-usage.js";
import { relayInference } from "./inference-relay.js";

function inferenceRoute(schema: z.ZodType<{ model: string }> & { shape: Record<string, unknown> }, path: RelayablePath) {
  return new Hono<QueenEnv>()
    .use(meterUsage)
    .post("/", async (c) => {
      const arrivedAtMs = Date.now();
      const body = await readJson(c);
      noteAskedModel(c, body);
      const { request, unasked } = askingForUsage(parseRequest(schema, body));
      c.set("usageUnasked", unasked);
      // Fields outside the API are stripped by the schema; the answer names them (x-rbee-ignored-fields).
      return relayInference(c, request, path, arrivedAtMs, ignoredFieldsHeader(schema, body));
    });
}

export const chatCompletionRoutes = inferenceRoute(ChatCompletionRequest, "/v1/chat/completions");
export const completionRoutes = inferenceRoute(CompletionRequest, "/v1/completions");
export const embeddingRoutes = inferenceRoute(EmbeddingRequest, "/v1/embeddings");
export { inferenceRoute };
