// Reads what is left of a request body that no route read (a 401 before the body was parsed, a
// 404, a 429), up to the queen's body limit, before the answer leaves. A body left unread leaves
// the connection at an unknown place in the byte stream, so workerd closes it after the answer;
// a client that reuses the kept-alive connection at that moment gets "other side closed" on its
// NEXT request (undici and the local queen: 1–3 in 200 requests after an unauthenticated POST).
// A body over the limit, or of unknown length, is left unread: closing that connection is right.
import { createMiddleware } from "hono/factory";
import type { QueenEnv } from "../env.js";

export const drainUnreadBody = createMiddleware<QueenEnv>(async (c, next) => {
  await next();
  const request = c.req.raw;
  if (request.body === null || request.bodyUsed) return;
  const length = Number(request.headers.get("content-length") ?? Number.NaN);
  if (!Number.isFinite(length) || length <= 0 || length > c.var.config.maxJsonBodyBytes) return;
  await request.arrayBuffer().catch(() => undefined); // a client gone mid-body: nothing to keep alive
});
