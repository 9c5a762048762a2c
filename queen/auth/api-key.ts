// Hono middleware: every client-facing /v1 route needs `Authorization: Bearer <RBEE_API_KEY>`.
import { createMiddleware } from "hono/factory";
import { RbeeError } from "../../shared/errors.js";
import type { QueenEnv } from "../env.js";
import { bearerToken, secretMatchesHash, sha256Hex } from "./secrets.js";

export const requireApiKey = createMiddleware<QueenEnv>(async (c, next) => {
  const configured = c.env.RBEE_API_KEY;
  if (!configured) {
    throw new RbeeError(503, "queen_not_configured", "The queen has no API key: set the RBEE_API_KEY secret (wrangler secret put RBEE_API_KEY).");
  }
  const presented = bearerToken(c.req.header("authorization"));
  if (presented === undefined) {
    throw new RbeeError(401, "missing_api_key", "No API key: send it as `Authorization: Bearer <key>`.");
  }
  // Hashing the configured key per request is ~µs; it keeps the comparison constant-time.
  if (!(await secretMatchesHash(presented, await sha256Hex(configured)))) {
    throw new RbeeError(401, "invalid_api_key", "Incorrect API key provided.");
  }
  await next();
});
