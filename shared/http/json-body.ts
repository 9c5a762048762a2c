// JSON request bodies under a size cap, for every role's Hono app (the queen's API, the worker's
// API, the hive's local channel): a body over the cap is refused with 413 before it is buffered
// or parsed, and malformed JSON is a 400 that says where it broke. Each role keeps its own wording.
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { describeError, RbeeError } from "../errors.js";

/** A 413's message: the cap, and the size the client declared when it declared one (else undefined). */
export type TooLargeMessage = (maxBytes: number, declaredBytes: number | undefined) => string;

/** A 400's message for a body that is not JSON, given the parser's reason. */
export type NotJsonMessage = (reason: string) => string;

const requestBodyTooLarge: TooLargeMessage = (maxBytes, declaredBytes) =>
  `Request body is ${declaredBytes === undefined ? "over the limit" : `${declaredBytes} bytes`}; the limit is ${maxBytes} bytes`;

const malformedJson: NotJsonMessage = (reason) => `Malformed JSON body: ${reason}`;

/**
 * Middleware that refuses a body over `maxBytes` with 413 `request_too_large`: at once when the
 * declared Content-Length is over, else while reading, since chunked uploads declare no length.
 */
export function limitBodySize(maxBytes: number, tooLarge: TooLargeMessage = requestBodyTooLarge): MiddlewareHandler {
  const refuse = (declaredBytes: number | undefined): never => {
    throw new RbeeError(413, "request_too_large", tooLarge(maxBytes, declaredBytes));
  };
  // hono's bodyLimit counts the bytes of a body of undeclared length as it buffers them.
  const counting = bodyLimit({ maxSize: maxBytes, onError: () => refuse(undefined) });
  return async (c, next) => {
    // A declared length is judged from the header alone, as bodyLimit would, but without touching
    // the body: on @hono/node-server that keeps reading it on the fast path (no web stream).
    const declared = declaredBodyLength(c.req.raw.headers);
    if (declared === undefined) return counting(c, next);
    if (declared > maxBytes) refuse(declared);
    await next();
  };
}

/** The parsed JSON body; throws 400 `invalid_json` when it does not parse. */
export async function readJsonBody(c: Context, notJson: NotJsonMessage = malformedJson): Promise<unknown> {
  return parseJsonText(await c.req.text(), notJson);
}

/** `text` parsed as JSON; throws 400 `invalid_json` when it does not parse. */
export function parseJsonText(text: string, notJson: NotJsonMessage = malformedJson): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RbeeError(400, "invalid_json", notJson(describeError(error)), { cause: error });
  }
}

/** Content-Length, unless Transfer-Encoding overrides it (HTTP/1.1 then ignores the length). */
export function declaredBodyLength(headers: Headers): number | undefined {
  const declared = headers.get("content-length");
  if (declared === null || headers.has("transfer-encoding")) return undefined;
  return Number(declared);
}
