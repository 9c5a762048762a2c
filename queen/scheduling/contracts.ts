// The seams between the parts of the queen's scheduler, written down before the parts: the
// live worker table (queen/registry: what the HiveSessions report), the dispatcher (queen/
// scheduling: the per-model queue, leases and placement), the spawner (queen/scheduling: which
// hive starts a worker for a model nobody serves, and which idle worker makes room), and the
// inference route that holds a lease while it relays.
import type { WorkerDevice, WorkerState } from "../../shared/protocol/worker-heartbeat.js";
import type { PromptKeys } from "./prompt-affinity.js";

/** One worker as the queen knows it: its hive is connected and it heartbeats through it. */
export interface LiveWorker {
  workerId: string;
  hiveName: string;
  /** The name clients use in `model`. */
  model: string;
  state: WorkerState;
  port: number;
  slotsTotal: number;
  device: WorkerDevice | null;
  /** Tokens per second over the worker's last reported interval. */
  tokensPerSecond: number;
  memoryRssBytes: number;
  memoryVramBytes: number | null;
  /** 0..1 while loading. */
  loadProgress?: number;
  failure?: string;
  lastSeenAtMs: number;
}

/** A change in the live worker table, as the dispatcher hears of it. */
export type WorkerChange = { kind: "upsert"; worker: LiveWorker } | { kind: "gone"; workerId: string; model: string; hiveName: string; reason?: string };

/** What a client asked to run, as the dispatcher queues it. */
export interface LeaseRequest {
  requestId: string;
  model: string;
  /** `model@hive`: only this hive's workers may serve it. */
  hive?: string;
  /** The API key's id: the queue is fair between keys. */
  keyId: string;
  /** Unix ms after which the request is answered 504 rather than run (X-Request-Timeout). */
  deadlineMs: number;
  /** Workers that already failed this request (failover): not placed on again. */
  excludeWorkerIds?: string[];
  /**
   * The continuation of a streamed answer whose worker was lost: its client is mid-answer, so it
   * waits ahead of the queue, and a full queue does not refuse it.
   */
  continuing?: boolean;
  /** How long the worker stays loaded once idle after this request (`keep_alive`), ms; Infinity: never unload. */
  keepAliveMs?: number;
  /**
   * Takes none of the worker's slots: a count of a prompt's tokens, which the worker answers on its
   * own thread whatever its slots do. Placed at once on any serving worker of the model, busy or
   * not, and holding no slot from others; it waits only while none serves (spawning, loading).
   */
  slotless?: boolean;
  /** A chat prompt's fingerprints: placed on the worker that served the turn it continues, while that one has a slot free (prompt-affinity.ts). */
  promptKeys?: PromptKeys;
}

/** How long a lease waited in the scheduler: in the queue, and for a worker to spawn or load (ms). */
export interface LeaseWait {
  queueMs: number;
  spawnMs: number;
}

/** Where the time went before the relay, for the Server-Timing header (ms). */
export interface LeaseTiming extends LeaseWait {
  /** The Registry round trip as the route sees it, less the waits (scheduling/leased-relay.ts). */
  placeMs: number;
}

export type LeaseOutcome =
  | { ok: true; leaseId: string; hiveName: string; workerId: string; port: number; timing: LeaseWait }
  | {
      ok: false;
      status: 401 | 404 | 429 | 503 | 504;
      code: string;
      message: string;
      retryAfterSeconds?: number;
      /** It will not pass by itself (the model fits no device, its policy no hive): not to be retried as it is. */
      final?: boolean;
      /** How long the request waited before it was refused (a spawn that failed, its deadline); absent when refused at once. */
      timing?: LeaseWait;
    };

/**
 * How a lease ended: `worker_failed` passes the worker over for a while (and before the first
 * byte lets the route fail over); `relay_lost` is an answer whose way broke between the worker and
 * the queen (a HiveSession reset, a dropped hive socket), which says nothing against the worker;
 * `deadline` a request whose X-Request-Timeout passed before the worker answered, nor does that;
 * `refused` a request the queen refused once placed, asking nothing of the worker (its key was
 * revoked, or its token budget spent, while it waited).
 */
export type LeaseEnd = "ok" | "worker_failed" | "relay_lost" | "client_gone" | "deadline" | "refused";

/** What the scheduler holds of one worker now: its leases, and whether it is passed over after a failure. */
export interface WorkerScheduling {
  leases: number;
  cooling: boolean;
}
