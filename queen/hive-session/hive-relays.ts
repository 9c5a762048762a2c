// The client requests a HiveSession is relaying through its hive: each one's PendingRelay, fed by
// the hive's response frames, and what ends them early (the worker gone, a frame the queen
// refused, the socket lost). In memory only: while a relay is pending the object is busy and
// can't hibernate, so nothing a client waits on is lost to eviction.
import { assertNever } from "../../shared/assert-never.js";
import { RbeeError } from "../../shared/errors.js";
import { type BatchableFrame, type QueenToHiveFrame, RELAY_END_CODES } from "../../shared/protocol/hive-frames.js";
import { type AnswerType, relayedHeadProblem, relayedHeaders } from "../../shared/protocol/relayed-head.js";
import { markRelayFailed } from "../scheduling/failover.js";
import type { ForgottenWorker } from "./hive-workers.js";
import { requestIdsNamedIn } from "./named-relays.js";
import { PendingRelay } from "./pending-relay.js";
import { RecentIds } from "./recent-ids.js";
import type { WholeAnswer } from "./whole-answer.js";

/** How long a relayed request may wait for the worker's response head (queueing included). */
export const RESPONSE_HEAD_TIMEOUT_MS = 120_000;

export type ResponseFrame = Extract<BatchableFrame, { type: "response_head" | "response_chunk" | "response_end" }>;

export function isResponseFrame(frame: BatchableFrame): frame is ResponseFrame {
  return frame.type === "response_head" || frame.type === "response_chunk" || frame.type === "response_end";
}

export type RelayFrame = Extract<QueenToHiveFrame, { type: "request" | "resume" }>;

export class HiveRelays {
  private readonly relays = new Map<string, PendingRelay>();
  /** Requests that ended lately: a chunk for one of these crossed a cancel and is dropped quietly. */
  private readonly ended = new RecentIds(1000);

  constructor(
    private readonly io: {
      send: (ws: WebSocket, frame: QueenToHiveFrame) => void;
      /** Whether a refusal on `ws` may be logged now (a hostile hive must not flood the logs). */
      mayLog: (ws: WebSocket) => boolean;
    },
  ) {}

  /**
   * Sends `frame` (a request or a resume) down `ws` and resolves with the hive's answer to it once
   * its head came: a streamed Response, or the text of an answer that came whole. No head within
   * `headTimeoutMs` (at most RESPONSE_HEAD_TIMEOUT_MS) is a 504 worker_timeout, and the hive is told
   * to stop; a relay that failed before its head is a failed relay (markRelayFailed), which the
   * route may fail over.
   */
  async answer(ws: WebSocket, frame: RelayFrame, headTimeoutMs: number, startOffset = 0, answerType?: AnswerType): Promise<Response | WholeAnswer> {
    const { requestId } = frame;
    const workerId = frame.type === "request" ? frame.workerId : undefined;
    const pending = new PendingRelay(
      {
        onCancel: () => this.io.send(ws, { type: "cancel", requestId }),
        onAck: (offset) => this.io.send(ws, { type: "response_ack", requestId, offset }),
        onFinish: () => {
          this.relays.delete(requestId);
          this.ended.add(requestId);
        },
      },
      startOffset,
      workerId,
      answerType,
    );
    this.relays.set(requestId, pending);
    this.io.send(ws, frame);
    const waitMs = Math.min(headTimeoutMs, RESPONSE_HEAD_TIMEOUT_MS);
    const timeout = setTimeout(() => {
      this.io.send(ws, { type: "cancel", requestId });
      // Shorter than the queen's own limit, the wait was what was left of the request's deadline.
      const limit = waitMs < RESPONSE_HEAD_TIMEOUT_MS ? "the rest of the request's deadline: X-Request-Timeout, or its client's own timeout" : "the queen's limit";
      const message = `The worker did not start answering within ${(waitMs / 1000).toFixed(1)} s (${limit}).`;
      pending.end(new RbeeError(504, "worker_timeout", message, { retryAfterSeconds: 5 }));
    }, waitMs);
    try {
      const head = await pending.head;
      // Failed in the message that brought its head: nothing has reached the client, so it is refused (and may fail over).
      if (pending.failure) throw pending.failure;
      // Its frames came in one message (handled without a turn between them): text, not a stream.
      const text = pending.wholeText();
      if (text !== undefined) return { ...head, text };
      return new Response(pending.body, { status: head.status, headers: head.headers });
    } catch (error) {
      // No head: the worker never answered (unreachable, hive gone, timed out), so the route may fail over.
      const failure = error instanceof RbeeError ? error : internalError(error);
      return markRelayFailed(failure.toResponse(), failure.code);
    } finally {
      clearTimeout(timeout);
    }
  }

  /** The relay of `requestId` while it runs. */
  running(requestId: string): PendingRelay | undefined {
    return this.relays.get(requestId);
  }

  /** Every relay running now. */
  all(): PendingRelay[] {
    return [...this.relays.values()];
  }

  /** A frame of an answer this hive relays: synchronous, so a batch's frames of it leave no turn between them. */
  onFrame(ws: WebSocket, hiveName: string, frame: ResponseFrame): void {
    switch (frame.type) {
      case "response_head": {
        const relay = this.relayFor(ws, hiveName, frame.requestId);
        const problem = relayedHeadProblem(frame, relay?.answerType);
        if (relay && problem) {
          if (this.io.mayLog(ws)) console.warn(`hive ${hiveName}: refused the response head of request ${frame.requestId}: it ${problem}`);
          relay.abandon(new RbeeError(502, "invalid_response_head", `the hive's response head ${problem}`));
          return;
        }
        relay?.receiveHead({ status: frame.status, headers: relayedHeaders(frame.headers) });
        return;
      }
      case "response_chunk":
        this.relayFor(ws, hiveName, frame.requestId)?.receiveChunk(frame.seq, frame.data);
        return;
      case "response_end": {
        const error = frame.error ? new RbeeError(502, relayEndCode(frame.error.code), frame.error.message) : undefined;
        this.relayFor(ws, hiveName, frame.requestId)?.receiveEnd(frame.chunks, error);
        return;
      }
      default:
        return assertNever(frame);
    }
  }

  /**
   * The relays in flight to workers that went silent (hung, or stopped without a word) or whose
   * process ended (`what` befell them): a stream goes on from another worker now, and a request not
   * yet answered is tried on another, rather than either waiting for the stall timeout or the
   * request's deadline.
   */
  abandonTo(workers: readonly ForgottenWorker[], what: string): void {
    const gone = new Set(workers.map((worker) => worker.workerId));
    for (const pending of this.all()) {
      if (pending.workerId === undefined || !gone.has(pending.workerId)) continue;
      pending.abandon(new RbeeError(502, "worker_disconnected", `Worker ${pending.workerId} ${what}.`, { retryAfterSeconds: 1 }));
    }
  }

  /** The relays a refused frame carried a part of (./named-relays.ts): each fails now, and the hive stops it. */
  abandonNamedIn(json: unknown, problem: string): void {
    for (const requestId of requestIdsNamedIn(json)) {
      this.relays.get(requestId)?.abandon(new RbeeError(502, "invalid_response_frame", `the hive sent a frame of this answer that the queen refused: ${problem}`));
    }
  }

  /**
   * The relay a response frame belongs to. Request ids are per HiveSession, so a frame naming a
   * request this hive was never sent (another hive's, or made up) is refused and logged.
   */
  private relayFor(ws: WebSocket, hiveName: string, requestId: string): PendingRelay | undefined {
    const pending = this.relays.get(requestId);
    if (pending || this.ended.has(requestId)) return pending;
    if (this.io.mayLog(ws)) console.warn(`hive ${hiveName}: refused a response frame for request ${requestId}, which it was never sent`);
    this.io.send(ws, { type: "error", code: "request_not_yours", message: `no request ${requestId} was sent to this hive` });
    return undefined;
  }
}

/** The code a hive ended a relay with, as the client reads it: one of RELAY_END_CODES, or `hive_error`. */
function relayEndCode(code: string): string {
  return (RELAY_END_CODES as readonly string[]).includes(code) ? code : "hive_error";
}

function internalError(error: unknown): RbeeError {
  console.error("relay failed", error);
  return new RbeeError(500, "internal_error", "The queen failed to relay the request.");
}
