// The deadline of one inference request: `X-Request-Timeout` seconds from its arrival, or the
// queen's default (REQUEST_TIMEOUT_SECONDS). The inference route reads it; the Dispatcher answers
// a request still queued at its deadline with 504 queue_timeout.
import { RbeeError } from "../../shared/errors.js";
import { MAX_REQUEST_TIMEOUT_SECONDS } from "../../shared/openai/inference-headers.js";

const HEADER_NAME = "X-Request-Timeout";
const MAX_QUOTED_LENGTH = 40;

/** Unix ms after which the request is answered 504 rather than run; throws 400 for a bad header. */
export function requestDeadlineMs(header: string | undefined, defaultSeconds: number, nowMs: number): number {
  if (header === undefined) return nowMs + defaultSeconds * 1000;
  const trimmed = header.trim();
  const seconds = Number(trimmed);
  if (!/^\d+(\.\d+)?$/.test(trimmed) || !(seconds > 0) || seconds > MAX_REQUEST_TIMEOUT_SECONDS) {
    throw new RbeeError(
      400,
      "invalid_header",
      `${HEADER_NAME} must be a number of seconds above 0 and at most ${MAX_REQUEST_TIMEOUT_SECONDS} (default ${defaultSeconds}), got '${trimmed.slice(0, MAX_QUOTED_LENGTH)}'.`,
      { param: HEADER_NAME },
    );
  }
  return nowMs + seconds * 1000;
}
