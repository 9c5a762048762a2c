// The client requests this hive is relaying to its workers right now, each with its own abort
// controller: the hive starts one per request frame, the queen's cancel (its client went away)
// aborts one, and a stopping hive aborts them all. They pass the queen's acks and resumes on to
// their relay (request-relay.ts). A relay whose way to the queen broke is kept for
// RELAY_RESUME_GRACE_MS, and so is an answer read to its end until the queen acknowledged all
// of it: a queen that comes back asks for the rest; after the grace the generation is aborted.
//
// Before connecting, the port the queen names is checked against the worker it names: only a
// port that worker's latest heartbeat carries, heard recently, is relayed to. The queen's registry
// may be out of date, and after a worker dies any local process may take its port; that process
// must not get the prompts.
import type { z } from "zod";
import type { ResumeRequestFrame } from "../../shared/protocol/hive-frames.js";
import { RELAY_RESUME_GRACE_MS } from "../../shared/protocol/relay-flow.js";
import { type RelayTarget, RequestRelay, type SendFrame } from "./request-relay.js";
import type { HeardHeartbeat } from "./worker-readiness.js";

/** A worker silent for this many heartbeat intervals is gone: the queen's rule for expiring it. */
const SILENT_INTERVALS = 3;

export interface WorkerRelaysOptions {
  log: (line: string) => void;
  /** The worker's latest heartbeat this hive heard (WorkerReadiness.lastHeard). */
  lastHeard: (workerId: string) => HeardHeartbeat | undefined;
  /** The worker's API secret (WorkerSecrets.secretFor). */
  secretFor: (workerId: string) => string;
  /** How often workers heartbeat now, ms (the queen's welcome says). */
  heartbeatIntervalMs: () => number;
}

type Refusal = { code: "worker_unknown" | "worker_unreachable"; message: string };

interface Relayed {
  relay: RequestRelay;
  controller: AbortController;
  /** Set while the relay waits for a resume (detached) or for its last ack (read to the end). */
  expiry: NodeJS.Timeout | undefined;
}

export class WorkerRelays {
  /** By the id the queen knows each response by now. */
  private readonly inFlight = new Map<string, Relayed>();
  private readonly log: (line: string) => void;

  constructor(private readonly options: WorkerRelaysOptions) {
    this.log = options.log;
  }

  /** Relays one request to its worker; settles once the relay ended (answered, refused, failed or aborted). */
  async start(target: RelayTarget, send: SendFrame): Promise<void> {
    const refusal = this.refusal(target);
    if (refusal) {
      this.log(`refused to relay request ${target.requestId} to worker ${target.workerId} on port ${target.port}: ${refusal.message}`);
      send({ type: "response_end", requestId: target.requestId, chunks: 0, error: refusal });
      return;
    }
    const controller = new AbortController();
    const relay = new RequestRelay(target, this.options.secretFor(target.workerId), controller.signal, send, this.log);
    const relayed: Relayed = { relay, controller, expiry: undefined };
    this.inFlight.set(target.requestId, relayed);
    try {
      await relay.run();
    } finally {
      if (relay.finished || controller.signal.aborted) this.forget(relayed);
      else this.expireLater(relayed); // read to its end: kept until the queen acknowledged it all
    }
  }

  /** The queen's client pulled response `requestId` up to `offset`. */
  ack(requestId: string, offset: number): void {
    const relayed = this.inFlight.get(requestId);
    if (!relayed) return; // ended and forgotten, or cancelled: the ack crossed it
    relayed.relay.ack(offset);
    if (relayed.relay.finished) this.forget(relayed);
  }

  /** The queen asks for the rest of a response (its socket or its object is new). */
  resume(frame: z.infer<typeof ResumeRequestFrame>, send: SendFrame): void {
    const relayed = this.inFlight.get(frame.resumes);
    if (relayed?.relay.resume(frame.requestId, frame.offset)) {
      this.inFlight.delete(frame.resumes);
      this.inFlight.set(frame.requestId, relayed);
      clearTimeout(relayed.expiry);
      relayed.expiry = undefined;
      if (relayed.relay.isEnded) this.expireLater(relayed);
      this.log(`request ${frame.resumes} resumed as ${frame.requestId} from byte ${frame.offset}`);
      return;
    }
    const message = relayed
      ? `the hive no longer holds byte ${frame.offset} of request ${frame.resumes}`
      : `the hive holds no response of request ${frame.resumes} (it ended, failed or was given up)`;
    send({ type: "response_end", requestId: frame.requestId, chunks: 0, error: { code: "resume_unavailable", message } });
  }

  /** The socket to the queen dropped: every relay holds its answer for a resume, for the grace. */
  detachAll(): void {
    for (const relayed of this.inFlight.values()) this.detachOne(relayed);
  }

  /** The queen does not know request `requestId` (its object was reset): hold it for a resume. */
  detach(requestId: string): void {
    const relayed = this.inFlight.get(requestId);
    if (relayed) this.detachOne(relayed);
  }

  private detachOne(relayed: Relayed): void {
    relayed.relay.detach();
    this.expireLater(relayed);
  }

  private expireLater(relayed: Relayed): void {
    if (relayed.expiry !== undefined) return;
    relayed.expiry = setTimeout(() => {
      if (!relayed.relay.isEnded) this.log(`request ${relayed.relay.id}: not resumed within ${RELAY_RESUME_GRACE_MS} ms; aborting it on the worker`);
      relayed.controller.abort();
      this.forget(relayed);
    }, RELAY_RESUME_GRACE_MS);
    relayed.expiry.unref();
  }

  private forget(relayed: Relayed): void {
    clearTimeout(relayed.expiry);
    // Only its own entry: a repeated id may have taken the slot.
    if (this.inFlight.get(relayed.relay.id) === relayed) this.inFlight.delete(relayed.relay.id);
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

  /** Aborts one relay on the worker; false when it is not running (its end crossed the cancel). */
  cancel(requestId: string): boolean {
    const relayed = this.inFlight.get(requestId);
    if (!relayed) return false;
    if (!relayed.relay.isEnded) this.log(`request ${requestId} cancelled by the queen (client gone); aborting it on the worker`);
    relayed.controller.abort();
    this.forget(relayed);
    return true;
  }

  /** Aborts every relay, for a stopping hive: their answers have nowhere to go. */
  abortAll(): void {
    for (const relayed of this.inFlight.values()) {
      clearTimeout(relayed.expiry);
      relayed.controller.abort();
    }
    this.inFlight.clear();
  }
}
