// A middleware that rewrites the JSON body of every error answer under its path, whoever made it
// (a route's RbeeError, the worker's own 400, a refusal before the route): what the dialect routes
// use to give errors in their API's terms (dialects/anthropic/errors.ts, dialects/responses/error-params.ts).
// Status and headers are kept, less a length that no longer holds.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { QueenEnv } from "../env.js";

/** The new body for an error answer's JSON body `body` with `status` (to the request `c`); undefined leaves the answer as it is. */
export type ErrorBodyRewrite = (body: unknown, status: number, c: Context<QueenEnv>) => unknown;

export function rewriteErrorBodies(rewrite: ErrorBodyRewrite) {
  return createMiddleware<QueenEnv>(async (c, next) => {
    await next();
    const response = c.res;
    if (response.ok || !(response.headers.get("content-type") ?? "").startsWith("application/json")) return;
    const body = rewrite(await response.clone().json().catch(() => undefined), response.status, c);
    if (body === undefined) return;
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    // Cleared first: Hono's setter would copy the old response's headers (a stale length) onto the new one.
    c.res = undefined;
    c.res = new Response(JSON.stringify(body), { status: response.status, headers });
  });
}
