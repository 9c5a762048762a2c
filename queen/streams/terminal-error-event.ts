// The last event of a stream the queen could not finish: an OpenAI error body as SSE data. The
// official clients raise an event whose data has an `error` field as an APIError carrying its
// message and code (openai-node: core/streaming.ts, `if (data && data.error) throw new
// APIError(…)`), so a client never mistakes a lost answer for a short one. No `[DONE]` follows:
// openai-node stops reading at `[DONE]` and would never see an error after it.
import { type OpenAiErrorBody, openAiErrorBody } from "../../shared/errors.js";
import { sseEvent } from "./stream-event.js";

/** The code of an answer lost mid-stream that no other worker could continue. */
export const WORKER_LOST = "worker_lost";

/** The last event of a stream: `body` (worded for the client by `reword`, when given) as SSE data. */
export function terminalErrorEvent(body: OpenAiErrorBody, reword?: (body: OpenAiErrorBody) => OpenAiErrorBody): string {
  return sseEvent(JSON.stringify(reword ? reword(body) : body));
}

/** The error body of an answer lost mid-stream (or cut short by the queen), status 502 unless said. */
export function lostAnswerError(message: string, code = WORKER_LOST, status = 502): OpenAiErrorBody {
  return openAiErrorBody(status, code, message);
}
