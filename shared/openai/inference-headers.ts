// The HTTP headers of the queen's inference API beyond OpenAI's own: what a client may send
// (a deadline) and what every answer carries (where the time went, and for admin keys who served
// it). Defined once here for the queen and for the tests and tools that read them.

/**
 * `X-Request-Id`: names one request in the logs of the queen, the hive and the worker. A client
 * may send its own (REQUEST_ID_PATTERN); every answer carries the one used, and the hive passes
 * the queen's relay id on to the worker under the same header.
 */
export const REQUEST_ID_HEADER = "x-request-id";
/** What a client's own request id may look like: a UUID, a hex trace id, `req_…`, up to 128 characters. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** `X-Request-Timeout: <seconds>`: how long the client will wait, queueing included. */
export const REQUEST_TIMEOUT_HEADER = "x-request-timeout";
/** Longest deadline a request may ask for, seconds. */
export const MAX_REQUEST_TIMEOUT_SECONDS = 3600;

/** Standard Server-Timing: `queue;dur=…, spawn;dur=…, place;dur=…, relay;dur=…` (ms). */
export const SERVER_TIMING_HEADER = "server-timing";
/** The hive and worker that answered; sent to admin keys only (layout is internal, see queen/client-errors). */
export const SERVED_BY_HIVE_HEADER = "x-rbee-hive";
export const SERVED_BY_WORKER_HEADER = "x-rbee-worker";
/** How many workers failed the request before the first byte and were replaced, when any were. */
export const FAILOVERS_HEADER = "x-rbee-failovers";
/**
 * Top-level request fields that are no part of the API and were ignored (comma-separated), when
 * there were any; fields of the API rbee does not honour are refused with a 400 instead.
 */
export const IGNORED_FIELDS_HEADER = "x-rbee-ignored-fields";
/**
 * `X-Rbee-Prompt-Tokens`: the head of a worker's streamed answer names its prompt's tokens, known
 * before the first token is. The queen charges them to a stream its client leaves before the
 * usage chunk (usage/meter-usage.ts) and keeps the header to itself.
 */
export const PROMPT_TOKENS_HEADER = "x-rbee-prompt-tokens";

/**
 * `X-Rbee-Stream-Write-Interval: <ms>`: the hive asks a worker to space a stream's writes at least
 * this far apart while tokens come faster (0 to MAX_STREAM_WRITE_INTERVAL_MS), as the hive spaces
 * the frames it sends on: each write it would gather anyway costs both processes a wake-up.
 */
export const STREAM_WRITE_INTERVAL_HEADER = "x-rbee-stream-write-interval";
export const MAX_STREAM_WRITE_INTERVAL_MS = 1000;

/** The PROMPT_TOKENS_HEADER count of `headers`, or undefined when it is missing or not a count. */
export function promptTokensOf(headers: Headers): number | undefined {
  const value = headers.get(PROMPT_TOKENS_HEADER);
  return value !== null && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}
