// QueenConnection keeps the hive's one outbound WebSocket to the queen alive: it says hello on
// every connect (listing the jobs and workers the hive still has), hands each valid frame to the hive, pings
// the queen and drops a socket that went silent (a half-open connection), and reconnects with
// capped, jittered backoff when the socket drops. Frames sent while disconnected are dropped
// here: a heartbeat or response that old is worthless. Job events are the exception, and are
// kept and replayed by the hive's JobEventOutbox. A queen that refuses the hive's name or token
// (401/403) is final: retrying cannot fix it, so the connection stops and says what to do. One
// that answers 409 (another rbee-hive process of this name is connected) is retried: the other
// may be a crashed run of this machine's hive whose connection the queen has yet to find dead.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";
import { backoffDelayMs, firstRetryDelayMs } from "../../shared/backoff.js";
import { CloseCode } from "../../shared/protocol/close-codes.js";
import { HIVE_INSTANCE_HEADER, hiveConnectUrl } from "../../shared/protocol/hive-connect.js";
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import {
  type HiveToQueenFrame,
  MAX_FRAME_BYTES,
  PING_FRAME,
  PROTOCOL_VERSION,
  QueenToHiveFrame,
} from "../../shared/protocol/hive-frames.js";
import { DEFAULT_HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_INTERVALS } from "../../shared/protocol/hive-socket-limits.js";
import { parseFrame } from "../../shared/protocol/parse-frame.js";
import { DEFAULTS } from "../config/options.js";
import { FrameBatcher } from "./frame-batcher.js";
import { describeMachine } from "./machine.js";
import { queenBaseUrl } from "./queen-base-url.js";

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
  /** The models ready in the catalog, for the hello; read on every (re)connect. */
  models?: () => CatalogModel[];
  /** The jobs the hello lists: running, or with events the queen has not acknowledged; read on every (re)connect. */
  jobs: () => string[];
  /** The workers the hello lists (the queen drops any other it issued to this hive); read on every (re)connect. */
  workers: () => string[];
  /** The socket dropped (a reconnect follows unless the connection was closed). */
  onDisconnect?: () => void;
  /**
   * The queen will not take this hive: its token was revoked, or the queen refused its name or
   * token. Reconnecting cannot help, so the connection stops; `message` says what to do, `cause`
   * is the queen's reason: its close reason ("hive token revoked"), or its refusal's `code: message`.
   * `revoked`: the queen cut off a hive it had taken (an admin's revocation), rather than refusing
   * one as it connected.
   */
  onRefused?: (message: string, cause: string, revoked: boolean) => void;
  log?: (line: string) => void;
}

/**
 * A connection that stayed up this long resets the backoff: it was not a flapping one. One the
 * queen welcomed but that dropped sooner halves it: the queen answers, the link flaps (a home
 * connection dropping every few seconds), and waiting ever longer only costs the hive its
 * moments online; a queen that refuses, or is not there, still meets a growing backoff.
 */
const STABLE_CONNECTION_MS = 10_000;
/** An attempt count whose backoff is the longest (shared/backoff.ts caps the doubling there). */
const LONGEST_BACKOFF_ATTEMPT = 30;
/** Longest part of a refusal's body quoted in the log. */
const MAX_QUOTED_BODY = 300;

export class QueenConnection {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private closed = false;
  /** The hive is stopping: the socket stays for its last words, but one that drops is not reopened. */
  private winding = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /**
   * This process's id on every connection it opens: the queen lets a new one replace the last
   * (left half-open by the network) but refuses one of another process of the same name (409).
   */
  private readonly instanceId = randomUUID();
  private pingTimer: NodeJS.Timeout | undefined;
  /** Until a welcome says otherwise. */
  private heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS;
  private lastHeardAtMs = 0;
  private readonly queenUrl: string;
  private readonly log: (line: string) => void;
  private readonly frames = new FrameBatcher({ isOpen: () => this.isOpen, write: (text) => this.socket?.send(text) });

  constructor(private readonly options: QueenConnectionOptions) {
    this.log = options.log ?? ((line) => console.log(line));
    const base = queenBaseUrl(options.queenUrl);
    this.queenUrl = base.url;
    if (base.droppedV1) {
      this.log(`the queen URL ${options.queenUrl} ends in /v1, the OpenAI base URL; the hive connects to the queen's own base URL, so it uses ${base.url}`);
    }
  }

  start(): void {
    this.open();
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a frame if connected, with the others sent in this turn of the event loop
   * (frame-batcher.ts); returns whether it was handed on while the socket was open.
   */
  send(frame: HiveToQueenFrame): boolean {
    return this.frames.send(frame);
  }

  /**
   * The hive begins to stop: its socket carries what the hive still has to say (its workers'
   * last heartbeats) until close(), but if it drops meanwhile (a Ctrl-C stops the local queen at
   * the same moment) there is nothing to reconnect for.
   */
  windDown(): void {
    this.winding = true;
    clearTimeout(this.reconnectTimer);
  }

  /** Closes the socket and stops reconnecting; safe to call twice. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.socket?.close(1000, "hive shutting down");
  }

  private open(): void {
    const url = hiveConnectUrl(this.queenUrl, this.options.hiveName);
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.options.token}`, [HIVE_INSTANCE_HEADER]: this.instanceId },
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: 15_000,
      // No permessage-deflate: frames are small JSON that both ends would compress one by one,
      // each with a fresh zlib stream. Measured on the local cloud, compression cost more CPU per
      // relayed request than everything else the hive does for it, on both ends of the socket,
      // for bytes a hive's uplink carries easily.
      perMessageDeflate: false,
    });
    this.socket = socket;
    let openedAt = 0;
    let welcomed = false;

    socket.on("open", () => {
      openedAt = Date.now();
      this.lastHeardAtMs = openedAt;
      this.log(`connected to queen ${this.queenUrl} as hive '${this.options.hiveName}'`);
      this.send({
        type: "hello",
        protocol: PROTOCOL_VERSION,
        hive: describeMachine(),
        devices: this.options.devices(),
        jobs: this.options.jobs(),
        workers: this.options.workers(),
        models: this.options.models?.(),
      });
      this.startPinging(socket);
    });
    socket.on("message", (data, isBinary) => {
      this.lastHeardAtMs = Date.now();
      if (this.receive(socket, isBinary ? data : data.toString()) === "welcome") welcomed = true;
    });
    socket.on("unexpected-response", (_request, response) => {
      void this.onRefusedUpgrade(socket, response);
    });
    socket.on("error", (error) => {
      if (!this.closed) this.log(`queen connection error: ${error.message}`);
    });
    socket.on("close", (code, reason) => {
      clearInterval(this.pingTimer);
      this.frames.clear(); // frames queued for this socket went with it; the next one starts with a hello
      if (openedAt > 0) {
        this.log(`queen connection closed (${code}${reason.length > 0 ? `: ${reason.toString()}` : ""})`);
        this.options.onDisconnect?.();
      }
      if (code === CloseCode.tokenRevoked) {
        this.close();
        const why = reason.toString() || "hive token revoked";
        this.options.onRefused?.(`the queen cut this hive off (${why}): get a new token with POST /v1/hives and restart with it (RBEE_HIVE_TOKEN)`, why, true);
        return;
      }
      if (code === CloseCode.protocolMismatch) {
        // Nothing changes that until someone upgrades one side (the queen's error frame, logged
        // as it came, named its protocols): asking again at once is no use, but a queen being
        // upgraded will take the hive, so it asks again at the longest backoff.
        this.attempt = LONGEST_BACKOFF_ATTEMPT;
        this.log(`the queen at ${this.queenUrl} does not speak this hive's protocol ${PROTOCOL_VERSION}: upgrade the older of the two; until then this hive asks again every ${Math.round((this.options.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs) / 1000)} s or so`);
        this.scheduleReconnect(false);
        return;
      }
      // A connection that stayed up dropped: likely a deploy that dropped every hive at once.
      const wasStable = openedAt > 0 && Date.now() - openedAt >= STABLE_CONNECTION_MS;
      if (wasStable) this.attempt = 0;
      else if (welcomed) this.attempt = Math.floor(this.attempt / 2);
      this.scheduleReconnect(wasStable);
    });
  }

  /**
   * Pings twice per heartbeat interval (the queen answers without waking) and terminates a socket
   * on which nothing arrived for HEARTBEAT_TIMEOUT_INTERVALS intervals: a NAT or proxy that
   * dropped the flow without a close frame leaves the socket "open" forever otherwise.
   */
  private startPinging(socket: WebSocket): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      const silentMs = Date.now() - this.lastHeardAtMs;
      const timeoutMs = this.heartbeatIntervalMs * HEARTBEAT_TIMEOUT_INTERVALS;
      if (silentMs > timeoutMs) {
        this.log(`nothing from the queen for ${silentMs} ms (more than ${timeoutMs} ms): the connection is dead (half-open); dropping it and reconnecting`);
        socket.terminate();
        return;
      }
      if (socket.readyState === WebSocket.OPEN) socket.send(PING_FRAME);
    }, Math.max(1, Math.floor(this.heartbeatIntervalMs / 2)));
  }

  /** Handles a message from the queen; returns its frame's type (undefined: not a frame). */
  private receive(socket: WebSocket, raw: unknown): QueenToHiveFrame["type"] | undefined {
    const parsed = parseFrame(QueenToHiveFrame, raw);
    if (!parsed.ok) {
      this.log(`ignored a frame from the queen: ${parsed.message}`);
      return undefined;
    }
    const frame = parsed.frame;
    if (frame.type === "pong") return frame.type; // its arrival was the point
    if (frame.type === "welcome" && frame.heartbeatIntervalMs !== this.heartbeatIntervalMs) {
      this.heartbeatIntervalMs = frame.heartbeatIntervalMs;
      this.startPinging(socket);
    }
    this.options.onFrame(frame);
    return frame.type;
  }

  /** The queen answered the upgrade with an HTTP error instead of a socket. */
  private async onRefusedUpgrade(socket: WebSocket, response: IncomingMessage): Promise<void> {
    const status = response.statusCode ?? 0;
    const final = status === 401 || status === 403;
    // Stop first: terminating the socket would otherwise schedule a reconnect.
    if (final) this.closed = true;
    const body = await readBody(response);
    socket.terminate();
    const problem = describeProblem(body);
    if (!final) {
      this.log(`queen refused the connection: HTTP ${status}${problem ? ` ${problem}` : ""}`);
      return;
    }
    const { hiveName } = this.options;
    this.log(`queen refused hive '${hiveName}': HTTP ${status}${problem ? ` ${problem}` : ""}`);
    this.options.onRefused?.(
      `the queen at ${this.queenUrl} does not accept hive '${hiveName}' with this token. Check --name (env RBEE_HIVE_NAME) ` +
        `and the token (env RBEE_HIVE_TOKEN); to get a new token, an admin calls POST /v1/hives with {"name": "${hiveName}"} ` +
        `on the queen (it shows the token once). Not retrying: a rejected token stays rejected.`,
      problem || `HTTP ${status}`,
      false,
    );
  }

  private scheduleReconnect(afterStableConnection: boolean): void {
    if (this.closed || this.winding) return;
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

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      if (text.length < 4096) text += chunk;
    });
    response.on("end", () => resolve(text));
    response.on("error", () => resolve(text));
  });
}

/** `code: message` from the queen's `{error: {code, message}}`, else the start of the body. */
function describeProblem(body: string): string {
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code === "string" && typeof error.message === "string") return `${error.code}: ${error.message}`;
  } catch {
    // not JSON: quote it as it is
  }
  return body.trim().slice(0, MAX_QUOTED_BODY);
}
