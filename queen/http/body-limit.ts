// Every /v1 request's body is read here, once and whole, before a route parses it (./body-reading.ts):
// over the MAX_JSON_BODY_BYTES var (bytes, default 1 MiB; from the queen's parsed config) it gets
// 413, at once when its declared length says so; not all there in time, 408; cut off by its
// client, 400. Mounted after authentication: an unauthenticated client's body is not buffered
// (./drain-unread-body.ts reads it away after the 401, within the same bounds).
//
// The body must be UTF-8 JSON as it came: a body sent compressed (Content-Encoding, or a
// Transfer-Encoding coding other than chunked) or declared in another charset is a 415 naming
// the header, and bytes that are not UTF-8 a 400, rather than garbled text read as a prompt or
// an "invalid JSON" quoting binary.
import { createMiddleware } from "hono/factory";
import { RbeeError } from "../../shared/errors.js";
import { declaredBodyLength } from "../../shared/http/json-body.js";
import type { QueenEnv } from "../env.js";
import { REQUEST_TIMEOUT_HEADER } from "../../shared/openai/inference-headers.js";
import { requestDeadlineMs } from "../scheduling/request-deadline.js";
import { BODY_READ_TIMEOUT_MS, type BodyReadLimits, readBodyWithin } from "./body-reading.js";

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export const jsonBodyLimit = createMiddleware<QueenEnv>(async (c, next) => {
  const request = c.req.raw;
  // A GET or HEAD takes no body; one sent anyway is drained after the answer.
  if (request.body === null || request.method === "GET" || request.method === "HEAD") return next();
  refuseEncodedBody(request.headers);
  const limits = bodyLimits(c.var.config.maxJsonBodyBytes, request.headers);
  const declared = declaredBodyLength(request.headers);
  if (declared !== undefined && declared > limits.maxBytes) throw limits.tooLarge();
  // Read once, here; routes parse it with readJson (./read-json.ts).
  c.set("bodyText", utf8Text(await readBodyWithin(request.body, limits)));
  return next();
});

/** 415 for a body that is not plain UTF-8 as sent: compressed, or declared in another charset. */
function refuseEncodedBody(headers: Headers): void {
  const contentEncoding = codings(headers.get("content-encoding")).filter((coding) => coding !== "identity");
  if (contentEncoding.length > 0) {
    throw new RbeeError(415, "unsupported_content_encoding", `Content-Encoding '${contentEncoding.join(", ").slice(0, 80)}' is not supported: send the request body uncompressed.`, {
      param: "content-encoding",
    });
  }
  const transferEncoding = codings(headers.get("transfer-encoding")).filter((coding) => coding !== "chunked" && coding !== "identity");
  if (transferEncoding.length > 0) {
    throw new RbeeError(415, "unsupported_content_encoding", `Transfer-Encoding '${transferEncoding.join(", ").slice(0, 80)}' is not supported: send the request body uncompressed.`, {
      param: "transfer-encoding",
    });
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headers.get("content-type") ?? "")?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new RbeeError(415, "unsupported_charset", `Content-Type names charset '${charset.slice(0, 40)}': request bodies are read as UTF-8 only.`, { param: "content-type" });
  }
}

function codings(header: string | null): string[] {
  return (header ?? "")
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "");
}

function utf8Text(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new RbeeError(400, "invalid_encoding", "The request body is not valid UTF-8: send JSON as UTF-8 text.");
  }
}

/** The bounds a body of a request with `headers`, arrived at `arrivedAtMs`, is read within. */
export function bodyLimits(maxBytes: number, headers: Headers, arrivedAtMs = Date.now()): BodyReadLimits {
  return {
    maxBytes,
    deadlineMs: bodyDeadlineMs(headers, arrivedAtMs),
    tooLarge: () => new RbeeError(413, "request_too_large", `Request body exceeds ${maxBytes} bytes (the queen's MAX_JSON_BODY_BYTES).`),
  };
}

/**
 * BODY_READ_TIMEOUT_MS from now, or the request's X-Request-Timeout if that is sooner (the header
 * bounds the whole request). A malformed header is the route's to refuse, once the body is in.
 */
function bodyDeadlineMs(headers: Headers, nowMs: number): number {
  const bodyDeadline = nowMs + BODY_READ_TIMEOUT_MS;
  const header = headers.get(REQUEST_TIMEOUT_HEADER);
  if (header === null) return bodyDeadline;
  try {
    return Math.min(bodyDeadline, requestDeadlineMs(header, BODY_READ_TIMEOUT_MS / 1000, nowMs));
  } catch {
    return bodyDeadline;
  }
}
