// The client requests this hive is relaying to its workers right now, each with its own abort
// controller and flow-control window: the hive starts one per request frame, the queen's acks
// reopen a window, the queen's cancel (its client went away) aborts one, and a stopping or
// disconnected hive aborts them all.
//
// Before connecting, the port the queen names is checked against the worker it names: only a
// port that worker's latest heartbeat carries, heard recently, is relayed to. The queen's registry
// may be out of date, and after a worker dies any local process may take its port; that process
// must not get the prompts.
import type { LogFn } from "../../shared/log/json-log.js";
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import { RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";
import { RelayWindow } from "./relay-window.js";
import { relayToWorker, type RelayTarget } from "./request-relay.js";
import type { HeardHeartbeat } from "./worker-readiness.js";

/** A worker silent for this many heartbeat intervals is gone: the queen's rule for expiring it. */
const SILENT_INTERVALS = 3;

export interface WorkerRelaysOptions {
  /** Gets one line per relayed request, with its request_id, worker, status and duration_ms. */
  log: LogFn;
  /** The worker's latest heartbeat this hive heard (WorkerReadiness.lastHeard). */
  lastHeard: (workerId: string) => HeardHeartbeat | undefined;
  /** The worker's API secret (WorkerSecrets.secretFor). */
  secretFor: (workerId: string) => string;
  /** How often workers heartbeat now, ms (the queen's welcome says). */
  heartbeatIntervalMs: () => number;
}

type Refusal = { code: "worker_unknown" | "worker_unreachable"; message: string };

interface InFlight {
  controller: AbortController;
  window: RelayWindow;
}

export class WorkerRelays {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly log: LogFn;

  constructor(private readonly options: WorkerRelaysOptions) {
    this.log = options.log;
  }

  /** Relays one request to its worker; settles once the relay ended (answered, refused, failed or aborted). */
  async start(target: RelayTarget, send: (frame: HiveToQueenFrame) => void): Promise<void> {
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
    const entry = { controller, window };
    this.inFlight.set(target.requestId, entry);
    // What the worker answered, read off the frames as they go to the queen.
    let status: number | null = null;
    let ended: Extract<HiveToQueenFrame, { type: "response_end" }> | undefined;
    const observed = (frame: HiveToQueenFrame) => {
      if (frame.type === "response_head") status = frame.status;
      else if (frame.type === "response_end") ended = frame;
      send(frame);
    };
    try {
      await relayToWorker(target, this.options.secretFor(target.workerId), controller.signal, window, observed);
    } finally {
      // Only its own entry: a cancel or a stop may have removed it, and a repeated id taken the slot.
      if (this.inFlight.get(target.requestId) === entry) this.inFlight.delete(target.requestId);
      const outcome = controller.signal.aborted ? "cancelled" : ended?.error ? "failed" : "answered";
      this.log(`relayed request ${target.requestId} to worker ${target.workerId}: ${outcome}`, {
        ...facts,
        status,
        outcome,
        chunks: ended?.chunks,
        error: ended?.error?.code,
        duration_ms: Math.round(performance.now() - startedAt),
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
    this.inFlight.get(requestId)?.window.ack(offset);
  }

  /** Aborts one relay on the worker; false when it is not running (its end crossed the cancel). */
  cancel(requestId: string): boolean {
    const entry = this.inFlight.get(requestId);
    if (!entry) return false;
    this.log(`request ${requestId} cancelled by the queen (client gone); aborting it on the worker`);
    entry.controller.abort();
    this.inFlight.delete(requestId);
    return true;
  }

  /**
   * Aborts every relay, for a stopping hive or a dropped queen socket: their answers have
   * nowhere to go (the queen ended them when the socket dropped, and the acks a relay waits
   * for would never come).
   */
  abortAll(): void {
    for (const { controller } of this.inFlight.values()) controller.abort();
    this.inFlight.clear();
  }
}
