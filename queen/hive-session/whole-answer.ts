// An answer HiveSession.relay (or resume) hands back as text rather than as a Response: one whose
// body had all come, with its end, in the message that brought its head (the hive sends a short
// non-streamed answer's head, body and end as one batch). A Response's body crosses the Durable
// Object's RPC as a stream, which the platform pumps chunk by chunk; text crosses as a value. In
// bench/queen-path.ts's floor, that took a request from 1.3–1.7 to 1.1–1.15 ms of workerd CPU.
import type { ResponseHead } from "./pending-relay.js";

export interface WholeAnswer extends ResponseHead {
  /** The whole body: never more than MAX_WHOLE_ANSWER_CHARS. */
  text: string;
}

/** Longer bodies cross as a stream: an RPC value is held whole in both objects' memory. */
export const MAX_WHOLE_ANSWER_CHARS = 1024 * 1024;

/** The route's Response for what the relay gave back. */
export function answerResponse(answer: Response | WholeAnswer): Response {
  if (answer instanceof Response) return answer;
  return new Response(answer.text, { status: answer.status, headers: answer.headers });
}
