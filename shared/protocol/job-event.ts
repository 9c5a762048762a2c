// What a job says while it runs: narration for people, progress for bars, data for programs,
// and exactly one terminal event (done, error or cancelled). The hive sends `JobEvent`s; the
// queen stamps each with its job, hive, time and sequence number (`StampedJobEvent`) before
// logging it and streaming it to watchers.
import { z } from "zod";
import { Bytes, MAX_BYTES } from "./figures.js";
import { MAX_LABEL_CHARS, MAX_MESSAGE_CHARS } from "./text-limits.js";

/**
 * Largest `data` payload a job may send, in bytes of its JSON (UTF-8). The queen keeps the newest
 * payload twice in its JobSession's storage (the event and the job's result) and a Durable Object
 * value holds at most 2 MB, so one huge payload would make the job unrecordable; 256 KiB is room
 * for a catalog of hundreds of models. The hive refuses a larger one (job_data_too_large).
 */
export const MAX_JOB_DATA_BYTES = 256 * 1024;

const encoder = new TextEncoder();

/** Size of a data payload as the cap counts it: its JSON in UTF-8 bytes. */
export function jobDataBytes(payload: Record<string, unknown>): number {
  return encoder.encode(JSON.stringify(payload)).byteLength;
}

export const JobEvent = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("narration"),
    /** A short machine-readable step name, e.g. `spawn`, `sigterm`. */
    action: z.string().min(1).max(MAX_LABEL_CHARS),
    message: z.string().max(MAX_MESSAGE_CHARS),
  }),
  /** Bytes done of `total` (null while unknown), and the current rate. */
  z.object({ type: z.literal("progress"), bytes: Bytes, total: Bytes.nullable(), bytes_per_second: z.number().min(0).max(MAX_BYTES).optional() }),
  /** The operation's result for programs: any JSON object of at most MAX_JOB_DATA_BYTES. */
  z.object({
    type: z.literal("data"),
    payload: z
      .record(z.string(), z.unknown())
      .refine((payload) => jobDataBytes(payload) <= MAX_JOB_DATA_BYTES, `must be at most ${MAX_JOB_DATA_BYTES} bytes of JSON`),
  }),
  z.object({ type: z.literal("done") }),
  /** `message` is for a person and says what to do about it. */
  z.object({ type: z.literal("error"), code: z.string().max(MAX_LABEL_CHARS), message: z.string().max(MAX_MESSAGE_CHARS) }),
  z.object({ type: z.literal("cancelled"), message: z.string().max(MAX_MESSAGE_CHARS).optional() }),
]);
export type JobEvent = z.infer<typeof JobEvent>;

export type TerminalJobEvent = Extract<JobEvent, { type: "done" | "error" | "cancelled" }>;

export function isTerminal(event: JobEvent): event is TerminalJobEvent {
  switch (event.type) {
    case "done":
    case "error":
    case "cancelled":
      return true;
    case "narration":
    case "progress":
    case "data":
      return false;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown job event ${JSON.stringify(unreachable)}`);
    }
  }
}

export const StampedJobEvent = z.intersection(
  JobEvent,
  z.object({
    job_id: z.string(),
    hive: z.string(),
    /** When the queen logged it (ISO 8601). */
    ts: z.string(),
    /** 1, 2, 3, … per job; also the SSE `id`, so a reconnecting watcher can resume. */
    seq: z.number().int().positive(),
  }),
);
export type StampedJobEvent = z.infer<typeof StampedJobEvent>;

/** A job's lifecycle as D1 records it. */
export const JobStatus = z.enum(["queued", "running", "done", "error", "cancelled"]);
export type JobStatus = z.infer<typeof JobStatus>;
