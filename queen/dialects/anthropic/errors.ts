// Anthropic's error shape for everything under /v1/messages: `{type:"error", error:{type,
// message}}` with Anthropic's error types. A middleware mounted before authentication, so that a
// missing key, a refused field, a full queue or a worker's failure all read as Anthropic's
// clients expect; the queen's own code is kept in the message so a person can still act on it.
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { QueenEnv } from "../../env.js";
import { anthropicErrorBody } from "./error-shape.js";

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
