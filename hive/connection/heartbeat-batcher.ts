// Groups this hive's worker heartbeats into one frame per heartbeat interval. Each frame is one
// event for the queen's HiveSession Durable Object, so four workers beating at their own phases
// cost it four events an interval one by one and one event batched; at 2,000 hives that is the
// difference between 1,600 and 400 events a second. What the queen must act on goes at once: a
// worker's first heartbeat and any that changes its state (loaded, failed, stopped), with every
// heartbeat waiting then. The rest go at a steady tick, one interval apart: a worker beating every
// interval at its own phase is then always forwarded the same time after it beats, so the queen
// hears it every interval as before (later by less than one), well inside its three-interval
// silence limit. Heartbeats the queen's socket could not take (a hive that has just started, or
// lost its socket, hears from its workers before the queen welcomes it) wait, still news, and go
// with the welcome: a restarted hive's workers are placed again at once, not an interval later.
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import { isServingMove, type WorkerHeartbeat, type WorkerState } from "../../shared/protocol/worker-heartbeat.js";

export interface HeartbeatBatcherOptions {
  /** Hands a frame to the queen's socket; false when it is not connected and the frame was dropped. */
  send: (frame: Extract<HiveToQueenFrame, { type: "worker_heartbeats" }>) => boolean;
  /** How often workers heartbeat now, ms: the longest a heartbeat waits for company. */
  intervalMs: () => number;
}

export class HeartbeatBatcher {
  /** The latest heartbeat of each worker not yet sent. */
  private readonly waiting = new Map<string, WorkerHeartbeat>();
  /** The state of each worker as last sent: a change of it is news for the queen. */
  private readonly sentStates = new Map<string, WorkerState>();
  private ticker: { timer: ReturnType<typeof setInterval>; intervalMs: number } | undefined;

  constructor(private readonly options: HeartbeatBatcherOptions) {}

  observe(heartbeat: WorkerHeartbeat): void {
    this.waiting.set(heartbeat.workerId, heartbeat);
    const sentState = this.sentStates.get(heartbeat.workerId);
    const news = sentState === undefined || (sentState !== heartbeat.state && !isServingMove(sentState, heartbeat.state));
    if (news) this.flush();
    else this.tick();
  }

  /** Sends every waiting heartbeat now, as one frame; with no socket to take them, they go on waiting. */
  flush(): void {
    if (this.waiting.size === 0) return;
    const heartbeats = [...this.waiting.values()];
    if (!this.options.send({ type: "worker_heartbeats", heartbeats })) return;
    this.waiting.clear();
    for (const heartbeat of heartbeats) {
      // A stopped worker beats no more: forget it, so a reused id would count as new.
      if (heartbeat.state === "stopped") this.sentStates.delete(heartbeat.workerId);
      else this.sentStates.set(heartbeat.workerId, heartbeat.state);
    }
  }

  /** The worker exited: a heartbeat of it still waiting would tell the queen it lives. */
  forget(workerId: string): void {
    this.waiting.delete(workerId);
    this.sentStates.delete(workerId);
  }

  /**
   * The queen's socket dropped: a new one starts from nothing (the queen learns each worker anew
   * from its hello and next heartbeat), so every worker's next heartbeat goes at once, and those
   * waiting go with the welcome.
   */
  reset(): void {
    clearInterval(this.ticker?.timer);
    this.ticker = undefined;
    this.sentStates.clear();
  }

  /** Keeps the tick going at the current interval (the queen's welcome may change it). */
  private tick(): void {
    const intervalMs = this.options.intervalMs();
    if (this.ticker?.intervalMs === intervalMs) return;
    clearInterval(this.ticker?.timer);
    const timer = setInterval(() => this.flush(), intervalMs);
    timer.unref?.(); // never what keeps a stopping hive alive
    this.ticker = { timer, intervalMs };
  }
}
