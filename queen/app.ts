// The queen's HTTP surface as a Hono app: health, the hive socket endpoint, and the
// OpenAI-compatible API behind an API key, whose scope (inference or admin) each /v1 path
// decides (auth/route-scope.ts), with the Responses and Anthropic Messages dialects beside it
// (dialects/). Errors leave in OpenAI's error shape, and in Anthropic's under /v1/messages.
import { Hono } from "hono";
import { openAiErrorBody, RbeeError } from "../shared/errors.js";
import { HIVE_CONNECT_PATH } from "../shared/protocol/hive-connect.js";
import { requireApiKey } from "./auth/api-key.js";
import { anthropicErrors } from "./dialects/anthropic/errors.js";
import { anthropicRoutes } from "./dialects/anthropic/route.js";
import { responsesErrorParams } from "./dialects/responses/error-params.js";
import { responsesRoutes } from "./dialects/responses/route.js";
import type { QueenEnv } from "./env.js";
import { jsonBodyLimit } from "./http/body-limit.js";
import { crossOrigin } from "./http/cross-origin.js";
import { drainUnreadBody } from "./http/drain-unread-body.js";
import { loadConfig } from "./http/load-config.js";
import { notFoundOrMethodNotAllowed } from "./http/method-not-allowed.js";
import { limitAddress } from "./limits/client-limits.js";
import { refuseInvalidRequestId, requestId } from "./observability/request-id.js";
import { aliasRoutes } from "./routes/aliases.js";
import { metricsRoutes } from "./routes/metrics.js";
import { METRICS_PATH } from "./auth/route-scope.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { chatCompletionRoutes, completionRoutes, embeddingRoutes } from "./routes/inference.js";
import { hiveConnectRoutes } from "./routes/hive-connect.js";
import { rerankRoutes } from "./routes/rerank.js";
import { hiveRoutes } from "./routes/hives.js";
import { jobRoutes } from "./routes/jobs.js";
import { keyRoutes } from "./routes/keys.js";
import { modelPolicyRoutes } from "./routes/model-policy.js";
import { modelRoutes } from "./routes/models.js";
import { usageRoutes } from "./routes/usage.js";
import { workerRoutes } from "./routes/workers.js";

export const app = new Hono<QueenEnv>();

app.use(loadConfig);
app.use(drainUnreadBody);
app.use(requestId);
// Before authentication: a browser's preflight carries no key.
app.use(crossOrigin);
app.get("/health", (c) => c.json({ status: "ok" }));

// Hives authenticate with their own token, not an API key: this route is mounted before the
// API-key middleware and that middleware skips it explicitly; it counts against the client
// address's rate limit, as every /v1 request does.
app.use(HIVE_CONNECT_PATH, limitAddress);
app.route(HIVE_CONNECT_PATH, hiveConnectRoutes);
// Before authentication, so that even a missing key reads in Anthropic's error shape to its clients.
app.use("/v1/*", anthropicErrors);
// Inside CORS and the Anthropic shape, so that a page and a Messages client can read the refusal.
app.use("/v1/*", refuseInvalidRequestId);
app.use("/v1/*", async (c, next) => (c.req.path === HIVE_CONNECT_PATH ? next() : requireApiKey(c, next)));
app.use("/v1/*", jsonBodyLimit);
// Prometheus's scrape: an admin key, or a key with only the `metrics` scope.
app.use(METRICS_PATH, requireApiKey);
app.route(METRICS_PATH, metricsRoutes);

// Before modelRoutes: /v1/models/:id would not match the longer path, but the order says which wins.
app.route("/v1/models/:id/policy", modelPolicyRoutes);
app.route("/v1/models/:id/alias", aliasRoutes);
app.route("/v1/models", modelRoutes);
app.route("/v1/chat/completions", chatCompletionRoutes);
app.route("/v1/completions", completionRoutes);
app.route("/v1/embeddings", embeddingRoutes);
// llama.cpp's server answers reranking on both names.
app.route("/v1/rerank", rerankRoutes);
app.route("/v1/reranking", rerankRoutes);
app.use("/v1/responses", responsesErrorParams);
app.use("/v1/responses/input_tokens", responsesErrorParams);
app.route("/v1/responses", responsesRoutes);
app.route("/v1/messages", anthropicRoutes);
app.route("/v1/hives", hiveRoutes);
app.route("/v1/jobs", jobRoutes);
app.route("/v1/keys", keyRoutes);
app.route("/v1/usage", usageRoutes);
app.route("/v1/workers", workerRoutes);
app.route("/v1/dashboard", dashboardRoutes);

// A path that routes take with other methods is a 405 naming them (Allow); any other, a 404.
app.notFound(notFoundOrMethodNotAllowed(app));

app.onError((error, c) => {
  if (error instanceof RbeeError) return error.toResponse();
  console.error(`${c.req.method} ${c.req.path} failed`, error);
  return c.json(openAiErrorBody(500, "internal_error", "The queen hit an unexpected error; see its logs."), 500);
});
