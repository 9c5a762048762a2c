// Which scope a /v1 route needs: the OpenAI endpoints need `inference`, everything else under
// /v1 needs `admin`. Deciding by path, in one place, means a new admin route is protected by
// default instead of by remembering to add a guard to it.
import type { Scope } from "./authenticated-key.js";

/** Paths (exact, or with a `/…` suffix) that an `inference` key may call. */
const INFERENCE_PATHS = ["/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/rerank", "/v1/reranking", "/v1/responses", "/v1/messages"] as const;

/** /v1/models/:id/policy and /v1/models/:alias/alias: admin only. */
const ADMIN_MODEL_PATH = /^\/v1\/models\/[^/]+\/(policy|alias)$/;

/** Prometheus's scrape path (routes/metrics.ts). */
export const METRICS_PATH = "/metrics";

export function scopeForPath(path: string): Scope {
  // Hono matches routes with a trailing slash too; treat `/v1/models/` like `/v1/models`.
  const normalised = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  if (normalised === METRICS_PATH) return "metrics";
  // A model's policy is the admins' to set, though it lives under /v1/models.
  if (ADMIN_MODEL_PATH.test(normalised)) return "admin";
  const inference = INFERENCE_PATHS.some((prefix) => normalised === prefix || normalised.startsWith(`${prefix}/`));
  return inference ? "inference" : "admin";
}

/** Whether a key with `scopes` may call a route needing `needed`: an admin key may read the metrics too. */
export function scopeAllows(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes(needed) || (needed === "metrics" && scopes.includes("admin"));
}
