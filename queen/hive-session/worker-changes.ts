// Which heartbeats are worth telling the Registry about: HiveSession hears every heartbeat of its
// hive's workers, and passes on only what placement cares about (state, pid, port, slots, device, a
// failure, loading progress in steps) at once, and the figures (tokens/s, memory, busy slots) at
// most every FIGURES_REFRESH_MS. A heartbeat that changed nothing costs the Registry nothing, but
// for one every LAST_SEEN_REFRESH_MS: when a worker was last heard (GET /v1/workers' last_seen_at)
// stays that recent.
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";

/** How often a worker's changed figures are passed on at most, ms. */
export const FIGURES_REFRESH_MS = 30_000;
/** How often a worker that changed nothing is passed on all the same, ms, so its last_seen_at moves. */
export const LAST_SEEN_REFRESH_MS = 60_000;
/** Loading progress is passed on in steps of this much (0..1). */
const LOAD_PROGRESS_STEP = 0.05;
/** Memory that moved less than this share since the last report is the same figure. */
const MEMORY_NOISE = 0.05;

/** `change`: report now; `figures`: report with the next refresh; `none`: nothing to say. */
export type HeartbeatNews = "change" | "figures" | "none";

export function heartbeatNews(reported: WorkerHeartbeat, next: WorkerHeartbeat): HeartbeatNews {
  if (
    reported.state !== next.state ||
    reported.port !== next.port ||
    reported.pid !== next.pid ||
    reported.slotsTotal !== next.slotsTotal ||
    reported.device !== next.device ||
    reported.model !== next.model ||
    reported.failure !== next.failure ||
    Math.abs((reported.loadProgress ?? 0) - (next.loadProgress ?? 0)) >= LOAD_PROGRESS_STEP
  ) {
    return "change";
  }
  if (
    reported.tokensPerSecond !== next.tokensPerSecond ||
    reported.slotsBusy !== next.slotsBusy ||
    reported.queueLength !== next.queueLength ||
    moved(reported.memoryRssBytes, next.memoryRssBytes) ||
    moved(reported.memoryVramBytes ?? 0, next.memoryVramBytes ?? 0)
  ) {
    return "figures";
  }
  return "none";
}

function moved(before: number, after: number): boolean {
  return Math.abs(after - before) > Math.max(before, after) * MEMORY_NOISE;
}
