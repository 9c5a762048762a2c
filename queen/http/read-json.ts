// Reads a JSON request body: malformed JSON is a 400 that says where it broke, and a body
// over the limit was already refused with 413 by the body-limit middleware.
import type { Context } from "hono";
import { RbeeError } from "../../shared/errors.js";
import { readJsonBody } from "../../shared/http/json-body.js";

export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (type !== "" && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new RbeeError(415, "unsupported_media_type", `Expected Content-Type application/json, got '${type}'.`);
  }
  return readJsonBody(c, (reason) => `Request body is not valid JSON: ${reason}`);
}
