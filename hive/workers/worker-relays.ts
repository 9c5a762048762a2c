// The client requests this hive is relaying to its workers right now, each with its own abort
// controller: the hive starts one per request frame, the queen's cancel (its client went away)
// aborts one, and a stopping hive aborts them all.
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import { relayToWorker, type RelayTarget } from "./request-relay.js";

export class WorkerRelays {
  private readonly inFlight = new Map<string, AbortController>();

  constructor(private readonly log: (line: string) => void) {}

  /** Relays one request to its worker; settles once the relay ended (answered, failed or aborted). */
  async start(target: RelayTarget, send: (frame: HiveToQueenFrame) => void): Promise<void> {
    const controller = new AbortController();
    this.inFlight.set(target.requestId, controller);
    try {
      await relayToWorker(target, controller.signal, send);
    } finally {
      // Only its own entry: a cancel or a stop may have removed it, and a repeated id taken the slot.
      if (this.inFlight.get(target.requestId) === controller) this.inFlight.delete(target.requestId);
    }
  }

  /** Aborts one relay on the worker; false when it is not running (its end crossed the cancel). */
  cancel(requestId: string): boolean {
    const controller = this.inFlight.get(requestId);
    if (!controller) return false;
    this.log(`request ${requestId} cancelled by the queen (client gone); aborting it on the worker`);
    controller.abort();
    this.inFlight.delete(requestId);
    return true;
  }

  /** Aborts every relay, for a stopping hive: their answers have nowhere to go. */
  abortAll(): void {
    for (const controller of this.inFlight.values()) controller.abort();
    this.inFlight.clear();
  }
}
