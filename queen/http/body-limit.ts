// Refuses request bodies over a size limit with 413 before anything parses them. The limit is
// the MAX_JSON_BODY_BYTES var (bytes, default 1 MiB).
import { createMiddleware } from "hono/factory";
import type { MiddlewareHandler } from "hono";
import { limitBodySize } from "../../shared/http/json-body.js";
import type { QueenEnv } from "../env.js";

/** Largest JSON request body the queen accepts when MAX_JSON_BODY_BYTES is not set, in bytes. */
export const DEFAULT_MAX_JSON_BODY_BYTES = 1024 * 1024;

const warnedAbout = new Set<string>();

/** The body limit from the MAX_JSON_BODY_BYTES var (bytes); a missing or invalid value means the default. */
export function maxJsonBodyBytes(env: { MAX_JSON_BODY_BYTES?: string }): number {
  const raw = env.MAX_JSON_BODY_BYTES;
  if (raw === undefined || raw === "") return DEFAULT_MAX_JSON_BODY_BYTES;
  const parsed = Number(raw);
  if (Number.isInteger(parsed) && parsed > 0) return parsed;
  // Checked per request (vars reach the code through env), so say it once per isolate.
  if (warnedAbout.has(raw)) return DEFAULT_MAX_JSON_BODY_BYTES;
  warnedAbout.add(raw);
  console.warn(`MAX_JSON_BODY_BYTES: expected a positive integer (bytes), got '${raw}'; using ${DEFAULT_MAX_JSON_BODY_BYTES}`);
  return DEFAULT_MAX_JSON_BODY_BYTES;
}

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

export const jsonBodyLimit = createMiddleware<QueenEnv>(async (c, next) => limiterFor(maxJsonBodyBytes(c.env))(c, next));
