// Reads what is left of a request body that no route read (a 401 before the body was parsed, a
// 404, a 429), up to the queen's body limit, before the answer leaves. A body left unread leaves
// the connection at an unknown place in the byte stream, so workerd closes it after the answer;
// a client that reuses the kept-alive connection at that moment gets "other side closed" on its
// NEXT request (undici and the local queen: 1–3 in 200 requests after an unauthenticated POST).
// A body over the limit, or of unknown length, is left unread: closing that connection is right.
// It is read within the same size and time bounds as a body a route reads (./body-limit.ts).
import { createMiddleware } from "hono/factory";
import type { QueenEnv } from "../env.js";
import { bodyLimits } from "./body-limit.js";
import { readBodyWithin } from "./body-reading.js";

export const drainUnreadBody = createMiddleware<QueenEnv>(async (c, next) => {
  const arrivedAtMs = Date.now();
  await next();
  const request = c.req.raw;
  if (request.body === null || request.bodyUsed) return;
  const limits = bodyLimits(c.var.config.maxJsonBodyBytes, request.headers, arrivedAtMs);
  const length = Number(request.headers.get("content-length") ?? Number.NaN);
  if (!Number.isFinite(length) || length <= 0 || length > limits.maxBytes) return;
  // A client gone mid-body, or too slow: nothing worth keeping alive.
  await readBodyWithin(request.body, limits).catch(() => undefined);
});
