// Anthropic's error shape for everything under /v1/messages: `{type:"error", error:{type,
// message}}` with Anthropic's error types. A middleware mounted before authentication, so that a
// missing key, a refused field, a full queue or a worker's failure all read as Anthropic's
// clients expect; the queen's own code is kept in the message so a person can still act on it.
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { QueenEnv } from "../../env.js";

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "overloaded_error"
  | "api_error";

export function anthropicErrorType(status: number): AnthropicErrorType {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 503 || status === 529) return "overloaded_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

export function anthropicErrorBody(status: number, message: string) {
  return { type: "error" as const, error: { type: anthropicErrorType(status), message } };
}

const OpenAiError = z.object({ error: z.object({ message: z.string(), code: z.string().nullish() }) });

export const anthropicErrors = createMiddleware<QueenEnv>(async (c, next) => {
  await next();
  const response = c.res;
  if (response.ok || !(response.headers.get("content-type") ?? "").startsWith("application/json")) return;
  const parsed = OpenAiError.safeParse(await response.clone().json().catch(() => undefined));
  if (!parsed.success) return;
  const { code, message } = parsed.data.error;
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  const body = anthropicErrorBody(response.status, code ? `${message} (${code})` : message);
  // Cleared first: Hono's setter would copy the old response's headers (a stale length) onto the new one.
  c.res = undefined;
  c.res = new Response(JSON.stringify(body), { status: response.status, headers });
});
