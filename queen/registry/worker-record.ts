// What the registry knows about one worker: its last heartbeat, whose hive it belongs to, and
// when it was last heard from. Stored per worker in the Registry's Durable Object storage.
import { z } from "zod";
import { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import type { WorkerScheduling } from "../scheduling/contracts.js";

export const WorkerRecord = z.object({
  hiveName: z.string(),
  heartbeat: WorkerHeartbeat,
  lastSeenAtMs: z.number(),
});
export type WorkerRecord = z.infer<typeof WorkerRecord>;

/** The public view of a worker, as `GET /v1/workers` returns it. */
export interface WorkerView {
  id: string;
  hive: string;
  model: string;
  state: string;
  pid: number;
  port: number;
  slots_total: number;
  slots_busy: number;
  queue_length: number;
  /** Requests holding one of its slots that the queen is relaying to it now (its own count, not the last heartbeat's): at most max(1, slots_total). */
  requests_in_flight: number;
  /** Passed over for a while after it failed a request, while another worker of its model is healthy. */
  cooling: boolean;
  device: string | null;
  memory_rss_bytes: number;
  memory_vram_bytes: number | null;
  tokens_per_second: number;
  load_progress?: number;
  last_seen_at: string;
  failure?: string;
}

export function toWorkerView(record: WorkerRecord, scheduling: WorkerScheduling): WorkerView {
  const { heartbeat } = record;
  return {
    id: heartbeat.workerId,
    hive: record.hiveName,
    model: heartbeat.model,
    state: heartbeat.state,
    pid: heartbeat.pid,
    port: heartbeat.port,
    slots_total: heartbeat.slotsTotal,
    slots_busy: heartbeat.slotsBusy,
    queue_length: heartbeat.queueLength,
    requests_in_flight: scheduling.leases,
    cooling: scheduling.cooling,
    device: heartbeat.device,
    memory_rss_bytes: heartbeat.memoryRssBytes,
    memory_vram_bytes: heartbeat.memoryVramBytes,
    tokens_per_second: heartbeat.tokensPerSecond,
    ...(heartbeat.loadProgress === undefined ? {} : { load_progress: heartbeat.loadProgress }),
    last_seen_at: new Date(record.lastSeenAtMs).toISOString(),
    ...(heartbeat.failure === undefined ? {} : { failure: heartbeat.failure }),
  };
}
