// Ceilings on the figures hives and workers report. The queen sums, sorts and prints them (placement
// by queue and free memory, /v1/hives, the dashboard, /metrics), so a figure no machine reaches is a
// broken or hostile report: the frame is refused by name rather than skewing every decision after it.
import { z } from "zod";

/** 1 PiB: more memory, VRAM or model than any one machine holds. */
export const MAX_BYTES = 2 ** 50;

/** Requests a worker may hold waiting for a slot (its `--max-queue`). */
export const MAX_QUEUED_REQUESTS = 100_000;

/** More cores than any one machine has. */
export const MAX_CPU_CORES = 65_536;

/** Ten million tokens a second: beyond any one worker's batch on any GPU. */
export const MAX_TOKENS_PER_SECOND = 10_000_000;

/** A count of bytes: memory, VRAM, a download's progress. */
export const Bytes = z.number().int().min(0).max(MAX_BYTES, "must be at most 2^50 bytes (1 PiB)");
