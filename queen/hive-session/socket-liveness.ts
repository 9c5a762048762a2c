// When a HiveSession last heard from each hive socket, to drop a half-open one: the frames it
// handled (kept in memory; an object evicted by hibernation had none to see) and the pings the
// runtime answered for it by auto-response without waking the object; and whether the frames
// come while the pings wait behind them (a congested uplink).
import { HEARTBEAT_TIMEOUT_INTERVALS } from "../../shared/protocol/hive-socket-limits.js";

export class SocketLiveness {
  private readonly lastFrameAtMs = new WeakMap<WebSocket, number>();

  constructor(private readonly ctx: DurableObjectState) {}

  heard(ws: WebSocket): void {
    this.lastFrameAtMs.set(ws, Date.now());
  }

  /** The newest sign of life of `ws`; a socket nothing came through yet counts from when it connected. */
  lastHeardMs(ws: WebSocket, connectedAtMs: number): number {
    return Math.max(this.lastFrameAtMs.get(ws) ?? 0, this.lastPingMs(ws), connectedAtMs);
  }

  /**
   * Whether the hive's uplink is congested: its frames still come (an answer's chunks), but its
   * pings, sent every half interval, are stuck behind them (a big answer on a slow uplink queues
   * tens of seconds of data in the socket's buffers), and so are its workers' heartbeats. Their
   * silence then says nothing of the workers.
   */
  congested(ws: WebSocket, nowMs: number, heartbeatIntervalMs: number): boolean {
    const frameAtMs = this.lastFrameAtMs.get(ws);
    if (frameAtMs === undefined) return false;
    // A message within the socket's silence limit (on a slow uplink one takes seconds to come
    // whole), and three pings missed (one each half interval): well before the workers' three
    // missed heartbeats, though the last ping through may have left up to an interval after the last beat.
    return nowMs - frameAtMs < heartbeatTimeoutMs(heartbeatIntervalMs) && nowMs - this.lastPingMs(ws) >= 1.5 * heartbeatIntervalMs;
  }

  private lastPingMs(ws: WebSocket): number {
    return this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
  }
}

/** How long a hive socket may stay silent before it is dropped, ms. */
export function heartbeatTimeoutMs(heartbeatIntervalMs: number): number {
  return heartbeatIntervalMs * HEARTBEAT_TIMEOUT_INTERVALS;
}
