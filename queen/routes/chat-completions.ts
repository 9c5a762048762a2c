// POST /v1/chat/completions: validates the request, asks the Registry for a worker that serves
// the model, and relays the request through that worker's hive, streaming the answer back.
import { Hono } from "hono";
import { RbeeError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import { ChatCompletionRequest } from "../../shared/openai/chat-request.js";
import { parseRequest } from "../../shared/validation.js";
import type { QueenEnv } from "../env.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import { readJson } from "../http/read-json.js";
import { registryStub } from "../registry/stub.js";

export const chatCompletionRoutes = new Hono<QueenEnv>().post("/", async (c) => {
  const body = await readJson(c);
  const request = parseRequest(ChatCompletionRequest, body);
  const placement = await registryStub(c.env).place(request.model);
  if (!placement.ok) {
    if (placement.code === "model_not_found") {
      throw new RbeeError(404, "model_not_found", placement.message, { param: "model" });
    }
    throw new RbeeError(503, placement.code, placement.message, { retryAfterSeconds: 2 });
  }
  const session = hiveSessionStub(c.env, placement.hiveName);
  const requestId = newId("req");
  // A client that disconnects cancels its generation all the way down to the worker.
  c.req.raw.signal.addEventListener("abort", () => c.executionCtx.waitUntil(session.cancelRelay(requestId)), { once: true });
  return session.relay({
    requestId,
    workerId: placement.workerId,
    port: placement.port,
    path: "/v1/chat/completions",
    // The validated request is re-serialised: the worker never sees bytes the queen didn't parse.
    body: JSON.stringify(request),
  });
});
