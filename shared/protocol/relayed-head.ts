// What of a worker's response head travels to the client, through the hive (which reads it from
// the worker) and the queen (which takes it from a hive it cannot trust): a final status that
// carries a body and is about the client's request, and a few headers by name. Both ends keep to
// the one list; the queen checks it again, so a hive cannot set a client's cookies, widen the
// queen's CORS answer, or claim another hive served the request, and a status or header the
// Response constructor refuses is the hive's fault, named as such, not the queen's.
import { PROMPT_TOKENS_HEADER } from "../openai/inference-headers.js";

/** The worker's response headers passed on: to the client, and the prompt's tokens to the queen's usage meter. */
export const RELAYED_RESPONSE_HEADERS: readonly string[] = ["content-type", "cache-control", "retry-after", PROMPT_TOKENS_HEADER];

/** Longest header value relayed, in characters; a worker's are a few dozen. */
const MAX_HEADER_VALUE_CHARS = 1024;

/** Statuses that cannot have a body (RFC 9110): the relay always has one, if empty. */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * Statuses of credentials refused. A worker checks no credentials but its hive's secret, and the
 * client's key is the queen's to check: passed on, they would tell the client its own key was
 * wrong (the OpenAI SDKs raise an AuthenticationError).
 */
const CREDENTIAL_STATUSES = new Set([401, 403, 407]);

export interface RelayedHead {
  status: number;
  headers: Record<string, string>;
}

/** `headers` cut down to the relayed ones (names compared without case, written in lower case). */
export function relayedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (RELAYED_RESPONSE_HEADERS.includes(lower)) kept[lower] = value;
  }
  return kept;
}

/** What a successful answer is: an event stream, when the request asked for a stream, or else one JSON value. */
export type AnswerType = "event-stream" | "json";

const CONTENT_TYPES: Readonly<Record<AnswerType, string>> = { "event-stream": "text/event-stream", json: "application/json" };

/**
 * What is wrong with `head` as the start of an answer to a client, or undefined when nothing is.
 * With `expected`, a successful answer must be of that type: a client that asked for a stream and
 * got one JSON value (or the other way round) would read nothing, or text it cannot parse.
 */
export function relayedHeadProblem(head: RelayedHead, expected?: AnswerType): string | undefined {
  if (!Number.isInteger(head.status) || head.status < 200 || head.status > 599 || NULL_BODY_STATUSES.has(head.status)) {
    return `has status ${head.status}, not a final status with a body (200–599 but 204, 205 and 304)`;
  }
  if (CREDENTIAL_STATUSES.has(head.status)) return `has status ${head.status}: the worker refused its hive's credentials, which says nothing of the client's request`;
  for (const [name, value] of Object.entries(relayedHeaders(head.headers))) {
    // Tab and visible characters only: a line break would be a header of the hive's making, a NUL a broken one.
    if (value.length > MAX_HEADER_VALUE_CHARS || !/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) {
      return `has a ${name} header that is not a valid value of at most ${MAX_HEADER_VALUE_CHARS} characters`;
    }
  }
  if (expected !== undefined && head.status < 300) {
    const type = contentTypeOf(head.headers);
    if (type !== CONTENT_TYPES[expected]) return `has content type '${type ?? "none"}' where the request asked for ${CONTENT_TYPES[expected]}`;
  }
  return undefined;
}

/** The media type of the head's content-type, in lower case, without its parameters. */
function contentTypeOf(headers: Readonly<Record<string, string>>): string | undefined {
  const value = Object.entries(headers).find(([name]) => name.toLowerCase() === "content-type")?.[1];
  return value?.split(";")[0]?.trim().toLowerCase();
}
