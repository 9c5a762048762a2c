// Refuses request bodies over a size limit with 413 before anything parses them. The limit is
// the MAX_JSON_BODY_BYTES var (bytes, default 1 MiB), read from the queen's parsed config.
import { createMiddleware } from "hono/factory";
import { bodyLimit } from "hono/body-limit";
import { RbeeError } from "../../shared/errors.js";
import type { QueenEnv } from "../env.js";

// One hono bodyLimit middleware per limit: vars don't change within an isolate, so this holds one.
const limiters = new Map<number, ReturnType<typeof bodyLimit>>();

function limiterFor(maxBytes: number): ReturnType<typeof bodyLimit> {
  let limiter = limiters.get(maxBytes);
  if (!limiter) {
    limiter = bodyLimit({
      maxSize: maxBytes,
      onError: () => {
        throw new RbeeError(413, "request_too_large", `Request body exceeds ${maxBytes} bytes (the queen's MAX_JSON_BODY_BYTES).`);
      },
    });
    limiters.set(maxBytes, limiter);
  }
  return limiter;
}

export const jsonBodyLimit = createMiddleware<QueenEnv>(async (c, next) => limiterFor(c.var.config.maxJsonBodyBytes)(c, next));
