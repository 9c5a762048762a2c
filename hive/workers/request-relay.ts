// Relays one client request from the queen to a worker on this machine's loopback and streams
// the worker's answer back as response frames. Tokens are coalesced only while they come faster
// than one frame per interval of the hive's one FlushTick (./chunk-coalescer.ts, ./flush-tick.ts):
// per-token frames would cost the queen's Durable Object one event each, while the first token
// goes out at once. It sends the worker's secret (./worker-secrets.ts); which worker may be
// relayed to at all is WorkerRelays' check, made before this runs. Flow control: with a window of
// bytes sent and not yet acknowledged by the queen (./relay-window.ts), it stops reading the
// worker's answer. What becomes of the frames (numbered, kept for a resume, held while the queen
// is away) is ./relayed-answer.ts's part.
//
// An event stream's head waits for its first text: the worker flushes its headers on their own,
// a moment before the first event, and each message costs the queen's Durable Object an event.
// Held, the head leaves with the first text, as one message. The worker makes its stream's
// response only once the first text exists, so nothing waits on the head but the text's read.
//
// The worker is asked to space its own writes by the interval the tick will have with this answer
// on it, as the answer starts (STREAM_WRITE_INTERVAL_HEADER): text the hive would hold for the
// tick anyway then comes in one read, not three, and each read and write costs both processes a
// wake-up. On a CPU-bound model (~250 tokens/s, one write per token otherwise), relayed streams
// went from ×0.96–0.98 to ×0.99–1.02 of direct (bench/README.md).
import type { IncomingMessage } from "node:http";
import { describeError } from "../../shared/errors.js";
import { isEventStreamType } from "../../shared/http/event-stream.js";
import { REQUEST_ID_HEADER, STREAM_WRITE_INTERVAL_HEADER } from "../../shared/openai/inference-headers.js";
import { RELAYED_RESPONSE_HEADERS } from "../../shared/protocol/relayed-head.js";
import { ChunkCoalescer } from "./chunk-coalescer.js";
import type { FlushTick } from "./flush-tick.js";
import type { RelayedAnswer } from "./relayed-answer.js";
import { requestWorker } from "./worker-request.js";

/** Buffered text that is sent at once, without waiting for the interval, in characters. */
const FLUSH_SIZE_CHARS = 64 * 1024;

export interface RelayTarget {
  requestId: string;
  /** The worker the queen means; its heartbeats must say it serves `port`. */
  workerId: string;
  port: number;
  path: string;
  body: string;
}

export async function relayToWorker(
  target: RelayTarget,
  /** The worker's API secret, sent as `Authorization: Bearer`. */
  secret: string,
  signal: AbortSignal,
  answer: RelayedAnswer,
  /** The hive's clock for coalesced text, shared by every answer it relays. */
  tick: FlushTick,
): Promise<void> {
  const { requestId } = target;
  let response: IncomingMessage;
  try {
    response = await requestWorker(
      {
        port: target.port,
        path: target.path,
        // The worker's log lines name the request as the queen and this hive know it.
        headers: { "content-type": "application/json", authorization: `Bearer ${secret}`, [REQUEST_ID_HEADER]: requestId, [STREAM_WRITE_INTERVAL_HEADER]: String(tick.nextIntervalMs) },
        body: target.body,
      },
      signal,
    );
  } catch (error) {
    if (signal.aborted) return;
    // Not connected: the request never reached the worker. Anything else broke after it was
    // sent (the worker died or closed the connection on it), which the queen counts against the
    // request as well as the worker: a request that kills workers is not handed to many.
    if (isConnectFailure(error)) answer.sendEnd({ code: "worker_unreachable", message: `worker on port ${target.port} is unreachable: ${describeError(error)}` });
    else answer.sendEnd({ code: "worker_disconnected", message: `worker on port ${target.port} took the request and closed the connection before answering: ${describeError(error)}` });
    return;
  }

  const headers: Record<string, string> = {};
  for (const name of RELAYED_RESPONSE_HEADERS) {
    const value = response.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  const status = response.statusCode ?? 502;
  let headSent = false;
  const sendHead = () => {
    if (headSent) return;
    headSent = true;
    answer.sendHead(status, headers);
  };
  const streaming = isEventStreamType(headers["content-type"]);
  if (!streaming) sendHead();
  // An event stream's text waits on the tick, whose interval grows with the streams on it.
  const leaveTick = streaming ? tick.join() : () => {};

  const chunks = new ChunkCoalescer({
    tick,
    maxChars: FLUSH_SIZE_CHARS,
    send: (data) => {
      sendHead();
      answer.sendChunk(data);
    },
  });
  // Text, with a character split across two reads put back together.
  response.setEncoding("utf8");
  const reads = response[Symbol.asyncIterator]() as AsyncIterator<string>;
  try {
    for (;;) {
      // While the queen has a window unacknowledged, the worker's answer waits in its socket.
      await answer.window.open(signal);
      if (signal.aborted) break;
      const { done, value } = await reads.next();
      if (done) break;
      chunks.push(value);
    }
    if (signal.aborted) {
      response.destroy(); // the worker sees its client gone and stops generating
      return;
    }
    chunks.flush();
    sendHead(); // a stream that ended without any text
    answer.sendEnd();
  } catch (error) {
    chunks.flush();
    if (signal.aborted) return;
    sendHead();
    const message = `worker on port ${target.port} stopped mid-response: ${describeError(error)}`;
    answer.sendEnd({ code: "worker_disconnected", message });
  } finally {
    chunks.dispose();
    leaveTick();
  }
}

/** Errors of a connection that was never made: nothing was sent. */
const CONNECT_FAILURES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ENOENT", "EADDRNOTAVAIL", "ENETUNREACH", "EHOSTUNREACH"]);

function isConnectFailure(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && CONNECT_FAILURES.has(code);
}
