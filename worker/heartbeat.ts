// Tells the hive, over its loopback channel, that this worker is alive and what state it is in:
// every interval, and at once when its state changes in a way the hive acts on. A hive that is
// down never stops the worker.
// A hive going away ends the one connection the heartbeats keep open (the channel keeps it for
// longer than any interval), and the worker then beats at once, and again soon after each failure
// rather than an interval later: a restarted hive (a crash its supervisor restarts, an upgrade)
// learns of the worker from its first heartbeat, and until then neither the hive nor the queen can
// send the worker a request or continue an answer it was giving. A worker no hive has answered for
// `orphanAfterMs` is an orphan (its hive died for good, or a hive of another run folder replaced
// it: an upgrade that moved it): it says so, and the worker stops rather than hold its model's
// memory, unseen, for ever.
import http from "node:http";
import { isServingMove, type WorkerHeartbeat, type WorkerState } from "../shared/protocol/worker-heartbeat.js";
import { describeError } from "../shared/errors.js";
import { channelConnectTarget, type HiveChannelAddress, parseHiveChannel } from "../shared/hive-channel-address.js";

export interface HeartbeatOptions {
  /** The hive channel (`unix:/path.sock`, `pipe:\\.\pipe\name` or `http://127.0.0.1:port`); heartbeats go to its `/heartbeat`. */
  hiveChannel: string;
  heartbeatIntervalMs: number;
  /** The heartbeat to send, read fresh for every send. */
  read: () => WorkerHeartbeat;
  log: (message: string) => void;
  /** How long no hive may answer on the channel before `onOrphaned`, ms; default: never. */
  orphanAfterMs?: number;
  /** Called once, with how long the channel has been unanswered, ms. */
  onOrphaned?: (unansweredMs: number) => void;
}

// A hive that accepts the connection but never answers must not pile up requests.
const MAX_REQUEST_TIMEOUT_MS = 5000;
/**
 * After a failed heartbeat the next try comes this soon, doubling up to the most; never later than
 * the interval. A connect to a channel nobody listens on fails at once and costs next to nothing.
 */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 500;

export class HeartbeatSender {
  private readonly url: string;
  private readonly address: HiveChannelAddress;
  /** Keeps one connection open between beats instead of one per beat. */
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly requestTimeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** The next try after a failed heartbeat, while the hive is down. */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = FIRST_RETRY_MS;
  private stopped = false;
  /** A send was asked for while one was in flight; the loop sends once more with fresh data. */
  private wanted = false;
  private sending: Promise<void> | undefined;
  private lastSentState: WorkerHeartbeat["state"] | undefined;
  private hiveDown = false;
  /** Since when no hive answered on the channel (connection failures only: a hive that refuses is there). */
  private unansweredSinceMs: number | undefined;
  private orphaned = false;
  /** Connections to the channel already watched for their end. */
  private readonly watchedSockets = new WeakSet<object>();

  constructor(private readonly options: HeartbeatOptions) {
    const address = parseHiveChannel(options.hiveChannel);
    if (!address) throw new Error(`hive channel '${options.hiveChannel}' is neither unix:/path, pipe:\\\\.\\pipe\\name nor a loopback http:// URL`);
    this.address = address;
    this.url = `${options.hiveChannel}/heartbeat`;
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

  /**
   * Sends now if the state moved from the last one the hive received in a way it acts on (loaded,
   * draining, failed). A move between ready and busy, one each way per request on a one-slot
   * worker, goes with the next interval's heartbeat: the hive would hold it until then anyway, and
   * two more round trips to it per request would take CPU from the request itself.
   */
  stateMaybeChanged(state: WorkerState): void {
    const last = this.lastSentState;
    if (state === last || (last !== undefined && isServingMove(last, state))) return;
    void this.sendNow();
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
    clearTimeout(this.retryTimer);
    this.agent.destroy();
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
    let status: number;
    try {
      status = await this.postJson(JSON.stringify(heartbeat));
    } catch (error) {
      // Nobody answered (a hive restarting, most likely): try again soon, not an interval later.
      this.retrySoon();
      this.noteUnanswered();
      return this.noteFailure(describeError(error), "retrying until the hive answers");
    }
    this.retryDelayMs = FIRST_RETRY_MS;
    this.unansweredSinceMs = undefined;
    // A hive that answers and refuses is no restart to catch: the next interval's heartbeat tries again.
    if (status < 200 || status > 299) return this.noteFailure(`the hive answered HTTP ${status}`, `retrying every ${this.options.heartbeatIntervalMs} ms`);
    this.lastSentState = heartbeat.state;
    if (this.hiveDown) {
      this.hiveDown = false;
      this.options.log(`hive channel ${this.url} reachable again`);
    }
  }

  private noteUnanswered(): void {
    const now = Date.now();
    this.unansweredSinceMs ??= now;
    const { orphanAfterMs, onOrphaned } = this.options;
    if (this.orphaned || orphanAfterMs === undefined || now - this.unansweredSinceMs < orphanAfterMs) return;
    this.orphaned = true;
    onOrphaned?.(now - this.unansweredSinceMs);
  }

  /** Logged once per outage: a hive restart must not flood the log with one line per try. */
  private noteFailure(reason: string, retrying: string): void {
    if (this.hiveDown) return;
    this.hiveDown = true;
    this.options.log(`heartbeat to ${this.url} failed (${reason}); ${retrying}`);
  }

  /** The hive closed the connection (it stopped, or crashed): find out at once whether one is back. */
  private watchConnection(socket: NodeJS.EventEmitter): void {
    if (this.watchedSockets.has(socket)) return;
    this.watchedSockets.add(socket);
    socket.once("close", () => this.retrySoon());
  }

  private retrySoon(): void {
    if (this.stopped || this.retryTimer) return;
    const delayMs = Math.min(this.retryDelayMs, this.options.heartbeatIntervalMs);
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.sendNow();
    }, delayMs);
    this.retryTimer.unref();
  }

  /** POSTs to the channel's /heartbeat (node:http, since fetch cannot reach a unix socket). */
  private postJson(body: string): Promise<number> {
    const target = channelConnectTarget(this.address);
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          ...target,
          path: "/heartbeat",
          method: "POST",
          agent: this.agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          timeout: this.requestTimeoutMs,
        },
        (response) => {
          response.resume(); // drain, so the keep-alive connection can be reused
          response.on("end", () => resolve(response.statusCode ?? 0));
          response.on("error", reject);
        },
      );
      request.on("socket", (socket) => this.watchConnection(socket));
      request.on("timeout", () => request.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`)));
      request.on("error", reject);
      request.end(body);
    });
  }
}
