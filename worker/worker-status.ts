// What the worker says about itself (lifecycle phase, slots, queue, device, memory, speed, why it
// failed), kept in one place so heartbeats and /health always agree; main moves the phase, the
// engine's slots move "busy".
import { cutToLength } from "../shared/protocol/text-limits.js";
import type { WorkerDevice, WorkerHeartbeat, WorkerState } from "../shared/protocol/worker-heartbeat.js";

/** The phases main moves through. "busy" is not one: it is "ready" with every slot taken. */
export type WorkerPhase = Exclude<WorkerState, "busy">;

/** What the engine reports once it exists. */
export interface EngineFigures {
  readonly slotsTotal: number;
  readonly slotsBusy: number;
  readonly queueLength: number;
  readonly device: WorkerDevice;
  readonly vramUsedBytes: number | null;
  readonly tokensPerSecond: number;
}

export interface WorkerIdentity {
  workerId: string;
  /** The model name clients use, not the file path. */
  model: string;
  port: number;
}

// The heartbeat schema caps `failure` at 2000 characters; a longer one would make every heartbeat invalid.
const MAX_FAILURE_LENGTH = 2000;

export class WorkerStatus {
  private phase: WorkerPhase = "loading";
  private failure: string | undefined;
  private loadProgress = 0;
  private engine: EngineFigures | undefined;
  private readonly listeners: Array<() => void> = [];

  constructor(readonly identity: WorkerIdentity) {}

  get state(): WorkerState {
    if (this.phase === "ready" && this.engine && this.engine.slotsBusy >= this.engine.slotsTotal) return "busy";
    return this.phase;
  }

  /** Where slot counts and the other figures come from once the engine exists. */
  attachEngine(engine: EngineFigures): void {
    this.engine = engine;
  }

  /** Fraction of the model loaded so far, 0..1. */
  get loadedFraction(): number {
    return this.loadProgress;
  }

  /** Fraction of the model loaded so far, 0..1. */
  setLoadProgress(progress: number): void {
    this.loadProgress = Math.min(1, Math.max(0, progress));
  }

  setPhase(phase: WorkerPhase, failure?: string): void {
    this.phase = phase;
    this.failure = failure === undefined ? undefined : cutToLength(failure, MAX_FAILURE_LENGTH);
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
    const engine = this.engine;
    return {
      workerId: this.identity.workerId,
      model: this.identity.model,
      state: this.state,
      pid: process.pid,
      port: this.identity.port,
      slotsTotal: engine?.slotsTotal ?? 0,
      slotsBusy: engine?.slotsBusy ?? 0,
      queueLength: engine?.queueLength ?? 0,
      device: engine?.device ?? null,
      memoryRssBytes: process.memoryUsage.rss(),
      memoryVramBytes: engine?.vramUsedBytes ?? null,
      tokensPerSecond: roundTo(engine?.tokensPerSecond ?? 0, 1),
      ...(this.phase === "loading" ? { loadProgress: this.loadProgress } : {}),
      ...(this.failure === undefined ? {} : { failure: this.failure }),
    };
  }
}

function roundTo(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
