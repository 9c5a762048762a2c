// What an inference client is told when the way to a worker fails. The queen's and the hive's
// own messages name hives, loopback ports and worker ids (`worker on port 43123 is unreachable`,
// `Hive 'gaming-pc' disconnected`): useful to an admin, but the layout of someone's machines to
// anyone holding an inference key. The code stays, so programs act on it as before; the message
// says what a client can do and carries the request id the queen logged the details under.

/** Client-facing wording by error code; any code not listed gets DEFAULT_WORDING. */
const WORDING: Readonly<Record<string, string>> = {
  hive_offline: "The machine serving this model is not connected right now; retry shortly.",
  hive_disconnected: "The machine serving this model disconnected while answering; retry.",
  worker_unreachable: "The worker serving this model could not be reached; retry shortly.",
  worker_disconnected: "The worker serving this model stopped in the middle of its answer; retry.",
  worker_timeout: "The worker serving this model did not start answering in time; retry later.",
  worker_busy: "Every slot of the worker serving this model is busy; retry after the time in Retry-After.",
  worker_draining: "The worker serving this model is shutting down; retry.",
  worker_stopping: "The worker serving this model is shutting down; retry.",
  response_incomplete: "The answer from the worker arrived incomplete; retry.",
  response_out_of_order: "The answer from the worker arrived incomplete; retry.",
  invalid_response_frame: "The answer from the worker arrived malformed; retry.",
  worker_stalled: "The worker serving this model stopped sending its answer; retry.",
  request_timeout: "The answer was cut off because the request's deadline (X-Request-Timeout) passed; ask for fewer tokens or allow more time.",
  worker_lost: "The worker serving this model stopped in the middle of its answer and no other could continue it; retry.",
};

const DEFAULT_WORDING = "The worker serving this model failed to answer.";

export function clientWording(code: string, requestId: string): string {
  return `${WORDING[code] ?? DEFAULT_WORDING} (request ${requestId})`;
}
