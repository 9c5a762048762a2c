// Failover before the first byte: a relay that failed on the way to the worker (the hive was
// offline or disconnected, the worker was unreachable or never answered), as opposed to an answer
// the worker itself gave about the request (a 400 for a bad prompt, its own 503), is tried again on
// another worker, invisibly to the client. HiveSession.relay marks the responses it made up for
// such failures with RELAY_FAILED_HEADER; the inference route reads the mark and strips it.

/** Set (to the error code) on a relay response the relay path produced because it never reached an answer. */
export const RELAY_FAILED_HEADER = "x-rbee-relay-failed";

/** Attempts per request, the first included: a few other workers, not a storm. */
export const MAX_RELAY_ATTEMPTS = 3;

/** Marks a response HiveSession.relay made because no answer came from the worker. */
export function markRelayFailed(response: Response, code: string): Response {
  const headers = new Headers(response.headers);
  headers.set(RELAY_FAILED_HEADER, code);
  return new Response(response.body, { status: response.status, headers });
}

/** The code of a relay failure before the first byte, or undefined for anything the worker answered. */
export function relayFailureOf(response: Response): string | undefined {
  return response.headers.get(RELAY_FAILED_HEADER) ?? undefined;
}

/** The response without the internal mark, for the client. */
export function withoutRelayMark(response: Response): Response {
  if (!response.headers.has(RELAY_FAILED_HEADER)) return response;
  const headers = new Headers(response.headers);
  headers.delete(RELAY_FAILED_HEADER);
  return new Response(response.body, { status: response.status, headers });
}
