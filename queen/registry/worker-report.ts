// What a HiveSession tells the Registry about its hive's workers: only changes (a worker
// appeared, changed state/port/slots/device, or went) and a slow refresh of its figures, never
// every heartbeat. The Registry answers `snapshot_needed` to a change from a hive it holds
// nothing of (it restarted or was evicted); the HiveSession then sends everything it has.
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";

/** Why a worker left the live table, as worker_history.stop_reason records it. */
export type StopReason = "deleted" | "exited" | "heartbeats_missed" | "hive_offline" | "stopped" | "not_in_hello" | "spawn_failed";

export interface WorkerReport {
  heartbeat: WorkerHeartbeat;
  /** When the HiveSession last heard this worker (Unix ms). */
  lastSeenAtMs: number;
}

export interface HiveReport {
  /** Everything the HiveSession has (upserts only): the Registry now knows this hive. */
  snapshot: boolean;
  upserts: WorkerReport[];
  gone: { workerId: string; reason: StopReason }[];
}

export type ReportOutcome = { ok: true } | { ok: false; code: "snapshot_needed" };

/** What the Registry holds and has been told, for operators and the registry bench. */
export interface RegistryStats {
  hives: number;
  workers: number;
  /** Reports received since this Registry instance started. */
  reports: number;
  /** Requests waiting in the queen's queues, all models together. */
  queued: number;
}
