// What a worker says about itself, every heartbeat interval, to its hive's local channel; the
// hive relays it unchanged to the queen, whose registry is the only place workers are known.
import { z } from "zod";
import { idPattern } from "../ids.js";
import { Bytes, MAX_QUEUED_REQUESTS, MAX_TOKENS_PER_SECOND } from "./figures.js";

export const WorkerId = z.string().regex(idPattern("wrk"), "must look like wrk_<letters and digits>");

export const WorkerState = z.enum(["loading", "ready", "busy", "draining", "stopped", "failed"]);
export type WorkerState = z.infer<typeof WorkerState>;

/** Ready or busy: a worker that answers requests (busy is ready with every slot taken). */
export function isServingState(state: string): boolean {
  return state === "ready" || state === "busy";
}

/**
 * A move between ready and busy, one each way per request on a one-slot worker: the worker answers
 * requests before and after, so neither its hive nor the queen has anything to act on at once.
 */
export function isServingMove(from: WorkerState, to: WorkerState): boolean {
  return isServingState(from) && isServingState(to);
}

/** The name clients use for a model in `model` fields: no path separators, no control characters. */
export const ModelName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@\-]*$/, "must be letters, digits and . _ : @ - only");

/** Where the worker's model runs, as node-llama-cpp reports its backend. */
export const WorkerDevice = z.enum(["cpu", "cuda", "metal", "vulkan"]);
export type WorkerDevice = z.infer<typeof WorkerDevice>;

export const WorkerHeartbeat = z.object({
  workerId: WorkerId,
  model: ModelName,
  state: WorkerState,
  pid: z.number().int().positive(),
  /** Loopback port the worker's HTTP API listens on. */
  port: z.number().int().min(1).max(65535),
  slotsTotal: z.number().int().min(0).max(1024),
  slotsBusy: z.number().int().min(0).max(1024),
  /** Requests waiting for a free slot. */
  queueLength: z.number().int().min(0).max(MAX_QUEUED_REQUESTS),
  /** Null until the backend is chosen, early in `loading`. */
  device: WorkerDevice.nullable(),
  /** Resident memory of the worker process, in bytes. */
  memoryRssBytes: Bytes,
  /** GPU memory in use on the worker's device, in bytes; null when no GPU is in use. */
  memoryVramBytes: Bytes.nullable(),
  /** Tokens generated per second over the last heartbeat interval, all slots together. */
  tokensPerSecond: z.number().min(0).max(MAX_TOKENS_PER_SECOND),
  /** How much of the model is loaded, 0..1; only while `loading`. */
  loadProgress: z.number().min(0).max(1).optional(),
  /** Why the worker is `failed`, for a person to read. */
  failure: z.string().max(2000).optional(),
}).refine((heartbeat) => heartbeat.slotsBusy <= heartbeat.slotsTotal, { message: "slotsBusy must not exceed slotsTotal", path: ["slotsBusy"] });
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;
