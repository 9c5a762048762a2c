// The OpenAI inference routes (chat completions, completions, embeddings): each validates its
// request, asks the Registry for a worker that serves the model, and relays the request through
// that worker's hive, streaming the answer back. A client that disconnects cancels the work.
// Every request is counted, with its tokens, for the API key that made it (usage/meter-usage).
// A key without the admin scope reads relay failures without hive names, ports or worker ids
// (client-errors/); an admin key reads them as the queen and the hive wrote them.
import { Hono } from "hono";
import type { z } from "zod";
import { RbeeError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import { ChatCompletionRequest } from "../../shared/openai/chat-request.js";
import { CompletionRequest } from "../../shared/openai/completion-request.js";
import { withoutKeepAlive } from "../../shared/openai/keep-alive.js";
import { EmbeddingRequest } from "../../shared/openai/embedding-request.js";
import type { RelayablePath } from "../../shared/protocol/hive-frames.js";
import { parseRequest } from "../../shared/validation.js";
import { redactRelayErrors } from "../client-errors/redact-relay-errors.js";
import type { QueenEnv } from "../env.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import { onBodyCancel } from "../http/on-body-cancel.js";
import { readJson } from "../http/read-json.js";
import { registryStub } from "../registry/stub.js";
import { meterUsage } from "../usage/meter-usage.js";

/** Seconds a client is told to wait when a model has no worker ready. */
const NO_WORKER_RETRY_AFTER_SECONDS = 2;

function inferenceRoute(schema: z.ZodType<{ model: string }>, path: RelayablePath) {
  return new Hono<QueenEnv>().use(meterUsage).post("/", async (c) => {
    const request = parseRequest(schema, await readJson(c));
    const placement = await registryStub(c.env).place(request.model);
    if (!placement.ok) {
      if (placement.code === "model_not_found") {
        throw new RbeeError(404, "model_not_found", placement.message, { param: "model" });
      }
      throw new RbeeError(503, placement.code, placement.message, { retryAfterSeconds: NO_WORKER_RETRY_AFTER_SECONDS });
    }
    const session = hiveSessionStub(c.env, placement.hiveName);
    const requestId = newId("req");
    const cancel = () => c.executionCtx.waitUntil(session.cancelRelay(requestId));
    c.req.raw.signal.addEventListener("abort", cancel, { once: true });
    const relayed = await session.relay({
      requestId,
      workerId: placement.workerId,
      port: placement.port,
      path,
      // The validated request is re-serialised: the worker never sees bytes the queen didn't parse.
      body: JSON.stringify(withoutKeepAlive(request)),
    });
    const response = c.var.apiKey.scopes.includes("admin") ? relayed : await redactRelayErrors(relayed, requestId);
    return onBodyCancel(response, cancel);
  });
}

export const chatCompletionRoutes = inferenceRoute(ChatCompletionRequest, "/v1/chat/completions");
export const completionRoutes = inferenceRoute(CompletionRequest, "/v1/completions");
export const embeddingRoutes = inferenceRoute(EmbeddingRequest, "/v1/embeddings");
