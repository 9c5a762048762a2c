// What the worker says about itself (lifecycle phase, slots, why it failed), kept in one place so
// heartbeats and /health always agree; main moves the phase, the engine's slots move "busy".
import type { WorkerHeartbeat, WorkerState } from "../shared/protocol/worker-heartbeat.js";

/** The phases main moves through. "busy" is not one: it is "ready" with every slot taken. */
export type WorkerPhase = Exclude<WorkerState, "busy">;

export interface WorkerSlots {
  readonly slotsTotal: number;
  readonly slotsBusy: number;
}

export interface WorkerIdentity {
  workerId: string;
  /** The model name clients use, not the file path. */
  model: string;
  port: number;
}

// The heartbeat schema caps `failure` at 2000 characters; a longer one would make every heartbeat invalid.
const MAX_FAILURE_LENGTH = 2000;

const NO_SLOTS: WorkerSlots = { slotsTotal: 0, slotsBusy: 0 };

export class WorkerStatus {
  private phase: WorkerPhase = "loading";
  private failure: string | undefined;
  private slots: WorkerSlots = NO_SLOTS;
  private readonly listeners: Array<() => void> = [];

  constructor(readonly identity: WorkerIdentity) {}

  get state(): WorkerState {
    if (this.phase === "ready" && this.slots.slotsBusy >= this.slots.slotsTotal) return "busy";
    return this.phase;
  }

  /** Where slot counts come from once the engine exists. */
  attachSlots(slots: WorkerSlots): void {
    this.slots = slots;
  }

  setPhase(phase: WorkerPhase, failure?: string): void {
    this.phase = phase;
    this.failure = failure === undefined ? undefined : truncate(failure, MAX_FAILURE_LENGTH);
    this.changed();
  }

  /** Tells listeners the state may have changed (a phase move, or a slot taken or freed). */
  changed(): void {
    for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  heartbeat(): WorkerHeartbeat {
    return {
      workerId: this.identity.workerId,
      model: this.identity.model,
      state: this.state,
      pid: process.pid,
      port: this.identity.port,
      slotsTotal: this.slots.slotsTotal,
      slotsBusy: this.slots.slotsBusy,
      ...(this.failure === undefined ? {} : { failure: this.failure }),
    };
  }
}

function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
