// Refuses request bodies over a size limit with 413 before anything parses them. The limit is
// the MAX_JSON_BODY_BYTES var (bytes, default 1 MiB), read from the queen's parsed config.
import { createMiddleware } from "hono/factory";
import type { MiddlewareHandler } from "hono";
import { limitBodySize } from "../../shared/http/json-body.js";
import type { QueenEnv } from "../env.js";

// One body-limit middleware per limit: vars don't change within an isolate, so this holds one.
const limiters = new Map<number, MiddlewareHandler>();

function limiterFor(maxBytes: number): MiddlewareHandler {
  let limiter = limiters.get(maxBytes);
  if (!limiter) {
    limiter = limitBodySize(maxBytes, () => `Request body exceeds ${maxBytes} bytes (the queen's MAX_JSON_BODY_BYTES).`);
    limiters.set(maxBytes, limiter);
  }
  return limiter;
}

export const jsonBodyLimit = createMiddleware<QueenEnv>(async (c, next) => limiterFor(c.var.config.maxJsonBodyBytes)(c, next));
