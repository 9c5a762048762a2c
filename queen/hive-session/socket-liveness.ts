// When a HiveSession last heard from each hive socket, to drop a half-open one: the frames it
// handled (kept in memory; an object evicted by hibernation had none to see) and the pings the
// runtime answered for it by auto-response without waking the object.
import { HEARTBEAT_TIMEOUT_INTERVALS } from "../../shared/protocol/hive-socket-limits.js";

export class SocketLiveness {
  private readonly lastFrameAtMs = new WeakMap<WebSocket, number>();

  constructor(private readonly ctx: DurableObjectState) {}

  heard(ws: WebSocket): void {
    this.lastFrameAtMs.set(ws, Date.now());
  }

  /** The newest sign of life of `ws`; a socket nothing came through yet counts from when it connected. */
  lastHeardMs(ws: WebSocket, connectedAtMs: number): number {
    const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    return Math.max(this.lastFrameAtMs.get(ws) ?? 0, pinged, connectedAtMs);
  }
}

/** How long a hive socket may stay silent before it is dropped, ms. */
export function heartbeatTimeoutMs(heartbeatIntervalMs: number): number {
  return heartbeatIntervalMs * HEARTBEAT_TIMEOUT_INTERVALS;
}
