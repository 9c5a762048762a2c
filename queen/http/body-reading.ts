// Reading a request body the way a server facing the open network must: within a size cap and a
// deadline, and with a client that cuts its upload off named as the cause. A body read with
// `request.text()` has neither: a client sending one byte a second (slowloris) held its connection
// and the body's buffer for as long as it liked (1,000 such clients took the local queen's
// workerd from 191 to 328 MB), and one that closed mid-upload surfaced as "Network connection
// lost" in a route, answered 500 and logged as the queen's own failure.
import { RbeeError } from "../../shared/errors.js";

/**
 * How long a body may take to arrive, from the request's arrival, in ms. A 1 MiB body (the
 * default cap) needs well under a second on any link fast enough to use a model's answer; this
 * leaves room for a slow one while freeing a trickling client's connection within half a minute.
 */
export const BODY_READ_TIMEOUT_MS = 30_000;

export interface BodyReadLimits {
  maxBytes: number;
  /** Unix ms by which the whole body must have arrived. */
  deadlineMs: number;
  /** The 413 for a body past `maxBytes`. */
  tooLarge: () => RbeeError;
}

/** The whole of `body`; throws 413 past the cap, 408 `body_timeout` at the deadline, 400 `body_incomplete` when the client cut it off. */
export async function readBodyWithin(body: ReadableStream<Uint8Array>, limits: BodyReadLimits): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const allowedMs = Math.max(0, limits.deadlineMs - Date.now());
  // At the deadline the read is cancelled, which ends the pending read: one timer, not a race per chunk.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => undefined);
  }, allowedMs);
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw timedOut ? bodyTimeout(size, allowedMs) : bodyCutOff(size, error);
      }
      if (timedOut) throw bodyTimeout(size, allowedMs);
      if (chunk.done) break;
      size += chunk.value.byteLength;
      if (size > limits.maxBytes) throw limits.tooLarge();
      chunks.push(chunk.value);
    }
  } catch (error) {
    // Frees the connection's pending read; the answer then closes it.
    reader.cancel().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const whole = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole;
}

function bodyTimeout(receivedBytes: number, allowedMs: number): RbeeError {
  return new RbeeError(
    408,
    "body_timeout",
    `The request body did not arrive in time: ${receivedBytes} bytes of it came in ${Math.round(allowedMs / 100) / 10} s, as long as a body may take ` +
      `(${BODY_READ_TIMEOUT_MS / 1000} s, or the request's X-Request-Timeout if sooner).`,
  );
}

function bodyCutOff(receivedBytes: number, cause: unknown): RbeeError {
  return new RbeeError(
    400,
    "body_incomplete",
    `The request body broke off after ${receivedBytes} bytes: the client's connection closed while sending it, or its chunked framing was malformed.`,
    { cause },
  );
}
