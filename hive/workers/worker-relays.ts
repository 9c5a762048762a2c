// The client requests this hive is relaying to its workers right now, each with its own abort
// controller and flow-control window: the hive starts one per request frame, the queen's acks
// reopen a window, the queen's cancel (its client went away) aborts one, and a stopping hive
// aborts them all. A dropped queen socket detaches them instead (./relayed-answer.ts): each is
// kept for RELAY_RESUME_GRACE_MS for the queen to resume, and aborted if it does not. An answer
// the worker finished with a long unacknowledged rest (RELAY_END_ACK_BYTES) is kept too until the
// queen acknowledges it: its end may still be on its way when the socket drops (a slow uplink
// holds tens of KB in transit), and only what the queen has need not be resumed.
//
// Before connecting, the port the queen names is checked against the worker it names: only a
// port that worker's latest heartbeat carries, heard recently, is relayed to. The queen's registry
// may be out of date, and after a worker dies any local process may take its port; that process
// must not get the prompts.
import { setImmediate as nextTurn } from "node:timers/promises";
import type { LogFn } from "../../shared/log/json-log.js";
import type { RelayEndCode } from "../../shared/protocol/hive-frames.js";
import { RELAY_END_ACK_BYTES, RELAY_RESUME_GRACE_MS, RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";
import { type FrameSink, RelayedAnswer } from "./relayed-answer.js";
import { RelayWindow } from "./relay-window.js";
import { FlushTick } from "./flush-tick.js";
import { relayToWorker, type RelayTarget } from "./request-relay.js";
import type { HeardHeartbeat } from "./worker-readiness.js";

/** A worker silent for this many heartbeat intervals is gone: the queen's rule for expiring it. */
const SILENT_INTERVALS = 3;

/**
 * How long a detached answer waits for its resume once the queen welcomed the hive back. A
 * client that still reads has the queen ask at once (it looks for the hive's socket every
 * 100 ms); an answer nobody asks for by then has lost its client, and its generation stops.
 */
export const RESUME_AFTER_WELCOME_MS = 5_000;

export interface WorkerRelaysOptions {
  /** Gets one line per relayed request, with its request_id, worker, status and duration_ms. */
  log: LogFn;
  /** The worker's latest heartbeat this hive heard (WorkerReadiness.lastHeard). */
  lastHeard: (workerId: string) => HeardHeartbeat | undefined;
  /** The worker's API secret (WorkerSecrets.secretFor). */
  secretFor: (workerId: string) => string;
  /** How often workers heartbeat now, ms (the queen's welcome says). */
  heartbeatIntervalMs: () => number;
  /** How long a detached answer waits for a resume, ms. Default RELAY_RESUME_GRACE_MS. */
  resumeGraceMs?: number;
  /** How long it waits once the queen welcomed the hive back, ms. Default RESUME_AFTER_WELCOME_MS. */
  resumeAfterWelcomeMs?: number;
}

type Refusal = { code: Extract<RelayEndCode, "worker_unknown" | "worker_unreachable">; message: string };

interface InFlight {
  controller: AbortController;
  answer: RelayedAnswer;
  /**
   * While detached: the timer that gives it up, and when that is at the latest (the grace's end).
   * While attached and ended: the timer that forgets it should the queen acknowledge nothing more.
   */
  graceTimer?: ReturnType<typeof setTimeout>;
  giveUpAtMs?: number;
}

export class WorkerRelays {
  private readonly inFlight = new Map<string, InFlight>();
  /** One clock for the coalesced text of every answer, so a tick's chunks leave as one message. */
  private readonly flushTick = new FlushTick();
  private readonly log: LogFn;

  constructor(private readonly options: WorkerRelaysOptions) {
    this.log = options.log;
  }

  /** Relays one request to its worker; settles once the relay ended (answered, refused, failed or aborted). */
  async start(target: RelayTarget, send: FrameSink): Promise<void> {
    const startedAt = performance.now();
    const facts = { request_id: target.requestId, worker: target.workerId, port: target.port, path: target.path };
    const refusal = this.refusal(target);
    if (refusal) {
      this.log(`refused to relay request ${target.requestId} to worker ${target.workerId} on port ${target.port}: ${refusal.message}`, { ...facts, error: refusal.code });
      send({ type: "response_end", requestId: target.requestId, chunks: 0, error: refusal });
      return;
    }
    const controller = new AbortController();
    const window = new RelayWindow((unacked) => {
      this.log(`request ${target.requestId}: paused reading the worker, ${unacked} bytes unacknowledged by the queen (window ${RELAY_WINDOW_BYTES}): its client reads slowly`, {
        ...facts,
        unacked_bytes: unacked,
      });
    });
    const answer = new RelayedAnswer(target.requestId, send, window);
    const entry: InFlight = { controller, answer };
    this.inFlight.set(target.requestId, entry);
    try {
      await relayToWorker(target, this.options.secretFor(target.workerId), controller.signal, answer, this.flushTick);
    } finally {
      // Only its own entry: a cancel or a stop may have removed it, and a repeated id taken the
      // slot. A detached answer stays, for a resume, until its grace ends.
      if (this.inFlight.get(target.requestId) === entry && answer.attached) this.forgetOnceAcknowledged(target.requestId, entry);
      const { status, chunks, error } = answer.summary;
      const outcome = controller.signal.aborted ? "cancelled" : error ? "failed" : "answered";
      const durationMs = Math.round(performance.now() - startedAt);
      const kept = !answer.attached;
      // After the answer's last frames: they leave on this turn's setImmediate (FrameBatcher), and
      // a log line is a write to a pipe, which cost the answer ~1 ms here when it went first.
      await nextTurn();
      this.log(`relayed request ${target.requestId} to worker ${target.workerId}: ${outcome}${kept ? " (kept for the queen to resume)" : ""}`, {
        ...facts,
        status,
        outcome,
        chunks,
        error: error?.code,
        duration_ms: durationMs,
        // How far the client's reading held the answer back: waits for the queen's acks, and the most sent ahead of them.
        ...(window.pauses > 0 ? { flow_pauses: window.pauses, max_unacked_bytes: window.maxUnacked } : {}),
      });
    }
  }

  /** Why `target` must not be relayed to, or undefined when its worker is live on that port. */
  private refusal(target: RelayTarget): Refusal | undefined {
    const { workerId } = target;
    const heard = this.options.lastHeard(workerId);
    if (!heard) return { code: "worker_unknown", message: `worker ${workerId} has sent this hive no heartbeat; it does not run here` };
    const { heartbeat, receivedAt } = heard;
    if (heard.exited) return { code: "worker_unreachable", message: `worker ${workerId} exited` };
    if (heartbeat.port !== target.port) {
      return { code: "worker_unknown", message: `worker ${workerId} serves another port than the queen named (its registry is out of date)` };
    }
    const silentMs = Date.now() - receivedAt;
    const limitMs = SILENT_INTERVALS * this.options.heartbeatIntervalMs();
    if (silentMs > limitMs) return { code: "worker_unreachable", message: `worker ${workerId} has been silent for ${silentMs} ms (over ${limitMs} ms): it is gone` };
    if (heartbeat.state === "stopped" || heartbeat.state === "failed") {
      return { code: "worker_unreachable", message: `worker ${workerId} is ${heartbeat.state}` };
    }
    return undefined;
  }

  /** The queen's client pulled the answer of `requestId` up to byte `offset`; an ack for a relay that ended is dropped. */
  ack(requestId: string, offset: number): void {
    const entry = this.inFlight.get(requestId);
    if (!entry) return;
    entry.answer.ack(offset);
    if (entry.answer.ended && entry.answer.attached) this.forgetOnceAcknowledged(requestId, entry);
  }

  /**
   * Forgets an attached answer the worker finished once the queen acknowledged all but less than
   * RELAY_END_ACK_BYTES of it (the queen acknowledges a longer rest as the end comes); until then
   * it is kept for a resume, and forgotten anyway after RELAY_RESUME_GRACE_MS without an ack (a
   * queen of an older protocol acknowledges no end, and a client may stop reading).
   */
  private forgetOnceAcknowledged(requestId: string, entry: InFlight): void {
    clearTimeout(entry.graceTimer);
    if (entry.answer.window.unacked < RELAY_END_ACK_BYTES) {
      this.inFlight.delete(requestId);
      return;
    }
    entry.graceTimer = setTimeout(() => {
      if (entry.answer.attached && this.inFlight.get(requestId) === entry) this.inFlight.delete(requestId);
    }, this.options.resumeGraceMs ?? RELAY_RESUME_GRACE_MS);
  }

  /**
   * Aborts one relay on the worker (its client went away, or the queen gave the worker up); false
   * when it is not running (its end crossed the cancel).
   */
  cancel(requestId: string): boolean {
    const entry = this.inFlight.get(requestId);
    if (!entry) return false;
    // Said once, by the relay's own end line ("…: cancelled"), not again here: a client leaving is common.
    this.abort(requestId, entry);
    return !entry.answer.ended; // one kept only for a resume was not running
  }

  /**
   * The queen asks for the rest of an answer from byte `offset` (its socket dropped, or the
   * object relaying it was reset, while the client waited): `send` gets it from there on, or a
   * response_end with `resume_unavailable` when it is not kept (that relay is then aborted).
   */
  resume(requestId: string, offset: number, send: FrameSink): void {
    const entry = this.inFlight.get(requestId);
    const graceSeconds = (this.options.resumeGraceMs ?? RELAY_RESUME_GRACE_MS) / 1000;
    const problem = entry
      ? entry.answer.resume(offset, send)
      : { code: "resume_unavailable", message: `this hive keeps no answer to request ${requestId}: it ended while the queen heard it, or was not resumed within ${graceSeconds} s` };
    if (problem) {
      this.log(`could not resume request ${requestId} from byte ${offset}: ${problem.message}`, { request_id: requestId, error: problem.code });
      send({ type: "response_end", requestId, chunks: 0, error: problem });
      if (entry) this.abort(requestId, entry);
      return;
    }
    clearTimeout(entry!.graceTimer);
    this.log(`resumed request ${requestId} from byte ${offset}`, { request_id: requestId, offset });
    if (entry!.answer.ended) this.forgetOnceAcknowledged(requestId, entry!);
  }

  /**
   * The queen socket dropped: every answer goes on into its window unsent, and is aborted unless
   * the queen resumes it within the grace (a stopping hive aborts them at once: abortAll).
   */
  detachAll(): void {
    const graceMs = this.options.resumeGraceMs ?? RELAY_RESUME_GRACE_MS;
    for (const [requestId, entry] of this.inFlight) {
      if (!entry.answer.attached) continue; // its grace runs from the first drop
      entry.answer.detach();
      entry.giveUpAtMs = Date.now() + graceMs;
      this.abortUnlessResumed(requestId, entry, graceMs, "of the queen socket dropping");
    }
  }

  /** The queen welcomed the hive back: the detached answers it still wants, it asks for now. */
  queenBack(): void {
    for (const [requestId, entry] of this.inFlight) {
      if (entry.answer.attached) continue;
      const waitMs = Math.min(this.options.resumeAfterWelcomeMs ?? RESUME_AFTER_WELCOME_MS, (entry.giveUpAtMs ?? 0) - Date.now());
      this.abortUnlessResumed(requestId, entry, Math.max(0, waitMs), "of the queen's welcome");
    }
  }

  private abortUnlessResumed(requestId: string, entry: InFlight, waitMs: number, since: string): void {
    clearTimeout(entry.graceTimer);
    entry.graceTimer = setTimeout(() => {
      if (entry.answer.attached || this.inFlight.get(requestId) !== entry) return;
      this.log(`request ${requestId}: not resumed within ${waitMs / 1000} s ${since}; aborting it on the worker`, { request_id: requestId });
      this.abort(requestId, entry);
    }, waitMs);
  }

  /** Aborts every relay, for a stopping hive: their answers have nowhere to go. */
  abortAll(): void {
    for (const [requestId, entry] of [...this.inFlight]) this.abort(requestId, entry);
  }

  private abort(requestId: string, entry: InFlight): void {
    clearTimeout(entry.graceTimer);
    entry.controller.abort();
    if (this.inFlight.get(requestId) === entry) this.inFlight.delete(requestId);
  }
}
