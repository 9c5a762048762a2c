// Asking a hive for the rest of an answer whose way broke (protocol 8's `resume`): the hive's
// socket dropped, or a deploy reset the HiveSession relaying it, while the worker went on
// answering and the hive kept what it answered. The inference route resumes a stream after its
// first byte (streams/spliced-stream.ts) from the end of the client's last event; leasedRelay
// resumes from byte 0 a relay whose HiveSession call failed before any answer came back, rather
// than have another worker generate it all again.
import { hiveSessionStub } from "../hive-session/stub.js";
import { answerResponse } from "../hive-session/whole-answer.js";
import { relayFailureOf } from "./failover.js";
import { printable } from "../../shared/printable.js";

/**
 * How long a resume waits for the hive to be back after its socket dropped: a hive's first
 * reconnect comes within its reconnect spread (5 s by default, so that the hives of a deploy do
 * not all come at once). An answer whose hive takes longer, or is gone, goes to another worker
 * after this wait; a hive that stopped (it said goodbye) is not waited for.
 */
export const RESUME_WAIT_MS = 6_000;

/**
 * The rest of relay `relayId`'s answer on hive `hiveName` from byte `offset` of its body, or
 * undefined when it cannot be had before `deadlineMs` (the request's X-Request-Timeout).
 */
export async function resumeAnswer(env: Env, hiveName: string, relayId: string, offset: number, deadlineMs: number): Promise<Response | undefined> {
  const waitMs = Math.min(RESUME_WAIT_MS, deadlineMs - Date.now());
  if (waitMs <= 0) return undefined;
  let response: Response;
  try {
    response = answerResponse(await hiveSessionStub(env, hiveName).resume(relayId, offset, waitMs, Math.max(1, deadlineMs - Date.now())));
  } catch (error) {
    console.warn(`request ${relayId}: could not ask hive ${hiveName} to resume its answer`, error);
    return undefined;
  }
  const failure = relayFailureOf(response);
  if (failure === undefined) return response;
  await response.body?.cancel().catch(() => {});
  console.warn(`request ${relayId}: hive ${hiveName} could not resume its answer from byte ${offset} (${printable(failure, 100)})`);
  return undefined;
}
