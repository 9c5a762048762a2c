// Parses a JSON request body: malformed JSON is a 400 that says where it broke; the body-limit
// middleware has read it (or refused it: 413 over the limit, 408 too slow, 400 cut off).
import type { Context } from "hono";
import { RbeeError } from "../../shared/errors.js";
import { parseJsonText } from "../../shared/http/json-body.js";
import type { QueenEnv } from "../env.js";

export async function readJson(c: Context<QueenEnv>): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (type !== "" && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new RbeeError(415, "unsupported_media_type", `Expected Content-Type application/json, got '${type}'.`);
  }
  // Read before the route (./body-limit.ts), within its bounds.
  return parseJsonText(c.var.bodyText ?? "", (reason) => `Request body is not valid JSON: ${reason}`);
}
