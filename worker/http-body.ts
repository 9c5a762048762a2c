// Reads a JSON request body with a size cap, so a huge or endless upload is refused before it is
// buffered or parsed; the worker's HTTP server uses it for every POST.
import type { IncomingMessage } from "node:http";
import { describeError, RbeeError } from "../shared/errors.js";

/** Largest request body the worker accepts, in bytes (1 MiB: far beyond any prompt that fits a context). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The parsed JSON body; throws 413 when it is over `limitBytes`, 400 when it is not JSON. */
export async function readJsonBody(request: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > limitBytes) throw tooLarge(limitBytes, declared);

  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    received += buffer.length;
    // Chunked uploads declare no length, so the cap is also enforced while reading.
    if (received > limitBytes) throw tooLarge(limitBytes);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks, received).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = describeError(error);
    throw new RbeeError(400, "invalid_json", `Malformed JSON body: ${reason}`, { cause: error });
  }
}

function tooLarge(limitBytes: number, declaredBytes?: number): RbeeError {
  const size = declaredBytes === undefined ? "over the limit" : `${declaredBytes} bytes`;
  return new RbeeError(413, "request_too_large", `Request body is ${size}; the limit is ${limitBytes} bytes`);
}
