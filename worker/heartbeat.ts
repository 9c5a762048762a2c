// Tells the hive, over its loopback channel, that this worker is alive and what state it is in:
// every interval, and at once when the state changes. A hive that is down never stops the worker.
import type { WorkerHeartbeat } from "../shared/protocol/worker-heartbeat.js";
import { describeError } from "../shared/errors.js";

export interface HeartbeatOptions {
  /** Base URL of the hive channel; heartbeats go to `${hiveChannel}/heartbeat`. */
  hiveChannel: string;
  heartbeatIntervalMs: number;
  /** The heartbeat to send, read fresh for every send. */
  read: () => WorkerHeartbeat;
  log: (message: string) => void;
}

// A hive that accepts the connection but never answers must not pile up requests.
const MAX_REQUEST_TIMEOUT_MS = 5000;

export class HeartbeatSender {
  private readonly url: string;
  private readonly requestTimeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** A send was asked for while one was in flight; the loop sends once more with fresh data. */
  private wanted = false;
  private sending: Promise<void> | undefined;
  private lastSentState: WorkerHeartbeat["state"] | undefined;
  private hiveDown = false;

  constructor(private readonly options: HeartbeatOptions) {
    this.url = `${options.hiveChannel.replace(/\/+$/, "")}/heartbeat`;
    this.requestTimeoutMs = Math.min(options.heartbeatIntervalMs, MAX_REQUEST_TIMEOUT_MS);
  }

  /** Sends one heartbeat now and then one every interval. */
  start(): void {
    if (this.timer || this.stopped) return;
    void this.sendNow();
    this.timer = setInterval(() => void this.sendNow(), this.options.heartbeatIntervalMs);
    // Heartbeats alone must not keep a worker that is otherwise done from exiting.
    this.timer.unref();
  }

  /** Sends now if the state differs from the last one the hive received (e.g. ready → busy). */
  stateMaybeChanged(): void {
    if (this.options.read().state !== this.lastSentState) void this.sendNow();
  }

  /**
   * Sends a heartbeat now; resolves once it (and any asked for meanwhile) was delivered or failed.
   * Never rejects. At most one request is in flight: calls during one coalesce into one more send.
   */
  sendNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.wanted = true;
    this.sending ??= this.sendWhileWanted();
    return this.sending;
  }

  /** Stops sending; safe to call twice. A send in flight is left to finish. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async sendWhileWanted(): Promise<void> {
    try {
      while (this.wanted && !this.stopped) {
        this.wanted = false;
        await this.post(this.options.read());
      }
    } finally {
      // Cleared synchronously after the last check of `wanted`, so a later sendNow starts a new loop.
      this.sending = undefined;
    }
  }

  private async post(heartbeat: WorkerHeartbeat): Promise<void> {
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(heartbeat),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      // Drain the body so the keep-alive connection can be reused.
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`the hive answered HTTP ${response.status}`);
      this.lastSentState = heartbeat.state;
      if (this.hiveDown) {
        this.hiveDown = false;
        this.options.log(`hive channel ${this.url} reachable again`);
      }
    } catch (error) {
      // Logged once per outage: a hive restart must not flood the log with one line per interval.
      if (this.hiveDown) return;
      this.hiveDown = true;
      this.options.log(
        `heartbeat to ${this.url} failed (${describeError(error)}); retrying every ${this.options.heartbeatIntervalMs} ms`,
      );
    }
  }
}
