// What the dashboard's event stream (GET /v1/dashboard/events) sends in each `snapshot` event:
// the whole fleet as the queen sees it now — hives, workers, models, unfinished jobs — and the
// request traffic of the last minutes. The queen builds it (queen/dashboard/), the page in
// queen/public/dashboard/ draws it (its JSDoc types come from here), and tests parse it with this schema.
import { z } from "zod";
import { WorkerDevice, WorkerState } from "../protocol/worker-heartbeat.js";

/** The SSE event name of a snapshot, and of a failure to build one (its data: `{ message }`). */
export const DASHBOARD_EVENTS = { snapshot: "snapshot", problem: "problem" } as const;
/** Where the page is served (wrangler.toml [assets]) and where it reads from. */
export const DASHBOARD_PATHS = { page: "/dashboard/", events: "/v1/dashboard/events" } as const;

const Bytes = z.number().int().min(0);
const Count = z.number().int().min(0);

export const DashboardHive = z.object({
  name: z.string(),
  online: z.boolean(),
  last_seen_at: z.string().nullable(),
  /** An admin revoked its token: it cannot connect until it is given a new one (POST /v1/hives). */
  token_revoked: z.boolean(),
  /** What the hive last reported about its machine; null before its first hello. */
  machine: z
    .object({
      os: z.string(),
      arch: z.string(),
      cpu: z.object({ model: z.string(), cores: Count }),
      ram_total_bytes: Bytes,
      ram_free_bytes: Bytes,
      gpus: z.array(z.object({ index: Count, name: z.string(), backend: z.string(), vram_total_bytes: Bytes.nullable(), vram_free_bytes: Bytes.nullable() })),
    })
    .nullable(),
});

export const DashboardWorker = z.object({
  id: z.string(),
  hive: z.string(),
  model: z.string(),
  state: WorkerState,
  device: WorkerDevice.nullable(),
  slots_busy: Count,
  slots_total: Count,
  tokens_per_second: z.number().min(0),
  memory_rss_bytes: Bytes,
  memory_vram_bytes: Bytes.nullable(),
  /** 0..1 while loading. */
  load_progress: z.number().min(0).max(1).nullable(),
});

export const DashboardModel = z.object({
  id: z.string(),
  /** As GET /v1/models reports it. */
  state: z.enum(["loaded", "loading", "loadable", "too_large", "unavailable"]),
  /** Online hives with the model in their catalog. */
  cached_on: z.array(z.string()),
  /** Hives with a worker serving it (ready or busy). */
  loaded_on: z.array(z.string()),
});

export const DashboardJob = z.object({
  id: z.string(),
  operation: z.string(),
  hive: z.string(),
  status: z.enum(["queued", "running"]),
  /** The model or worker the job is about, for a person to read. */
  subject: z.string().nullable(),
  created_at: z.string(),
  /** The newest progress event; null until the job sends one. */
  progress: z.object({ bytes: Bytes, total: Bytes.nullable(), bytes_per_second: z.number().min(0).nullable() }).nullable(),
});

export const TrafficBucket = z.object({
  /** Start of the bucket, Unix ms. */
  start_ms: z.number(),
  requests: Count,
  /** Answered with a status of 400 or more. */
  errors: Count,
  /** Mean time to first token of the bucket's answers that had a body, ms; null when none. */
  ttft_ms: z.number().min(0).nullable(),
});

export const DashboardSnapshot = z.object({
  /** When the queen built it (ISO 8601). */
  at: z.string(),
  hives: z.array(DashboardHive),
  workers: z.array(DashboardWorker),
  models: z.array(DashboardModel),
  jobs: z.array(DashboardJob),
  /** Requests waiting in the queen's queue for a worker slot. */
  queued: Count,
  /** Inference requests over the last minutes, oldest bucket first, for the whole queen. */
  traffic: z.object({ bucket_seconds: z.number().positive(), buckets: z.array(TrafficBucket) }),
});

export type DashboardHive = z.infer<typeof DashboardHive>;
export type DashboardWorker = z.infer<typeof DashboardWorker>;
export type DashboardModel = z.infer<typeof DashboardModel>;
export type DashboardJob = z.infer<typeof DashboardJob>;
export type TrafficBucket = z.infer<typeof TrafficBucket>;
export type DashboardSnapshot = z.infer<typeof DashboardSnapshot>;
