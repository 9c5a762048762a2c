// QueenConnection keeps the hive's one outbound WebSocket to the queen alive: it says hello on
// every connect, hands each valid frame to the hive, and reconnects with capped, jittered
// backoff when the socket drops. Frames sent while disconnected are dropped, not queued: a
// heartbeat or response that old is worthless, and the queen fails the request that waited.
import WebSocket from "ws";
import { backoffDelayMs, firstRetryDelayMs } from "../../shared/backoff.js";
import { CloseCode } from "../../shared/protocol/close-codes.js";
import { hiveConnectUrl } from "../../shared/protocol/hive-connect.js";
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import {
  type HiveToQueenFrame,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  QueenToHiveFrame,
} from "../../shared/protocol/hive-frames.js";
import { parseFrame } from "../../shared/protocol/parse-frame.js";
import { DEFAULTS } from "../config/options.js";
import { describeMachine } from "./machine.js";

export interface QueenConnectionOptions {
  queenUrl: string;
  hiveName: string;
  token: string;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  reconnectSpreadMs?: number;
  /** Called for every valid frame from the queen. */
  onFrame: (frame: QueenToHiveFrame) => void;
  /** What the hello says about this machine's devices; read on every (re)connect. */
  devices: () => HiveDevices;
  /** The queen revoked this hive's token: reconnecting cannot help, so the connection stops. */
  onRevoked?: (reason: string) => void;
  log?: (line: string) => void;
}

/** A connection that stayed up this long resets the backoff: it was not a flapping one. */
const STABLE_CONNECTION_MS = 10_000;
/** Ping interval; a socket that misses a pong for this long is considered dead and terminated. */
const PING_INTERVAL_MS = 20_000;

export class QueenConnection {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly log: (line: string) => void;

  constructor(private readonly options: QueenConnectionOptions) {
    this.log = options.log ?? ((line) => console.log(line));
  }

  start(): void {
    this.open();
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends a frame if connected; returns whether it was handed to the socket. */
  send(frame: HiveToQueenFrame): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes the socket and stops reconnecting; safe to call twice. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.socket?.close(1000, "hive shutting down");
  }

  private open(): void {
    const url = hiveConnectUrl(this.options.queenUrl, this.options.hiveName);
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.options.token}` },
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: 15_000,
    });
    this.socket = socket;
    let openedAt = 0;
    let alive = true;

    socket.on("open", () => {
      openedAt = Date.now();
      this.log(`connected to queen ${this.options.queenUrl} as hive '${this.options.hiveName}'`);
      this.send({ type: "hello", protocol: PROTOCOL_VERSION, hive: describeMachine(), devices: this.options.devices() });
      // A NAT that silently drops the flow leaves the socket "open" forever without this.
      this.pingTimer = setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, PING_INTERVAL_MS);
    });
    socket.on("pong", () => {
      alive = true;
    });
    socket.on("message", (data, isBinary) => this.receive(isBinary ? data : data.toString()));
    socket.on("unexpected-response", (_request, response) => {
      // A 401 here means a wrong token: retrying quickly would only hammer the queen.
      this.log(`queen refused the connection: HTTP ${response.statusCode} ${response.statusMessage ?? ""}`.trim());
      if (response.statusCode === 401) this.attempt = Math.max(this.attempt, 5);
      socket.terminate();
    });
    socket.on("error", (error) => this.log(`queen connection error: ${error.message}`));
    socket.on("close", (code, reason) => {
      clearInterval(this.pingTimer);
      if (openedAt > 0) this.log(`queen connection closed (${code}${reason.length > 0 ? `: ${reason.toString()}` : ""})`);
      if (code === CloseCode.tokenRevoked) {
        this.close();
        this.options.onRevoked?.(reason.toString() || "token revoked");
        return;
      }
      // A connection that stayed up dropped: likely a deploy that dropped every hive at once.
      const wasStable = openedAt > 0 && Date.now() - openedAt >= STABLE_CONNECTION_MS;
      if (wasStable) this.attempt = 0;
      this.scheduleReconnect(wasStable);
    });
  }

  private receive(raw: unknown): void {
    const parsed = parseFrame(QueenToHiveFrame, raw);
    if (!parsed.ok) {
      this.log(`ignored a frame from the queen: ${parsed.message}`);
      return;
    }
    this.options.onFrame(parsed.frame);
  }

  private scheduleReconnect(afterStableConnection: boolean): void {
    if (this.closed) return;
    const delayMs = afterStableConnection
      ? firstRetryDelayMs(this.options.reconnectSpreadMs ?? DEFAULTS.reconnectSpreadMs)
      : backoffDelayMs(this.attempt, {
          baseMs: this.options.reconnectBaseMs ?? DEFAULTS.reconnectBaseMs,
          maxMs: this.options.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs,
        });
    this.attempt += 1;
    this.log(`reconnecting in ${delayMs} ms`);
    this.reconnectTimer = setTimeout(() => this.open(), delayMs);
  }
}
