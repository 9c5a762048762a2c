// The queen's inference traffic over the last minutes in fixed time buckets — requests, errors
// and mean time to first token per bucket — kept in the one Metrics Durable Object beside the
// Prometheus counters, so the dashboard's chart is true for the whole queen and not one isolate.
// A sample lands in the bucket of the moment its batch reaches the object (batches come about a
// second after the answer: metrics-reporter.ts), which is close enough for a chart of minutes.
import type { TrafficBucket } from "../../shared/dashboard/dashboard-snapshot.js";
import type { RequestSample } from "./request-metrics.js";

/** Width of one bucket, ms. */
export const RECENT_BUCKET_MS = 10_000;
/** Buckets kept: ten minutes. */
export const RECENT_BUCKETS = 60;

/** One stored bucket: [startMs, requests, errors, answers with a first byte, their summed TTFT ms]. */
export type StoredBucket = [number, number, number, number, number];

export class RecentRequests {
  /** By bucket start, ms; only the last RECENT_BUCKETS windows are kept. */
  private readonly buckets = new Map<number, StoredBucket>();

  constructor(state: readonly StoredBucket[] = []) {
    for (const bucket of state) this.buckets.set(bucket[0], [...bucket]);
  }

  add(samples: readonly RequestSample[], nowMs: number): void {
    const startMs = bucketStart(nowMs);
    const bucket = this.buckets.get(startMs) ?? [startMs, 0, 0, 0, 0];
    for (const sample of samples) {
      bucket[1] += 1;
      if (sample.status >= 400) bucket[2] += 1;
      if (sample.ttftMs !== null) {
        bucket[3] += 1;
        bucket[4] += sample.ttftMs;
      }
    }
    this.buckets.set(startMs, bucket);
    this.forgetBefore(startMs - (RECENT_BUCKETS - 1) * RECENT_BUCKET_MS);
  }

  /** Every bucket of the last RECENT_BUCKETS windows up to `nowMs`'s, oldest first, empty ones as zeros. */
  series(nowMs: number): TrafficBucket[] {
    const last = bucketStart(nowMs);
    const series: TrafficBucket[] = [];
    for (let index = RECENT_BUCKETS - 1; index >= 0; index -= 1) {
      const startMs = last - index * RECENT_BUCKET_MS;
      const [, requests, errors, timed, ttftSumMs] = this.buckets.get(startMs) ?? [startMs, 0, 0, 0, 0];
      series.push({ start_ms: startMs, requests, errors, ttft_ms: timed === 0 ? null : ttftSumMs / timed });
    }
    return series;
  }

  state(): StoredBucket[] {
    return [...this.buckets.values()];
  }

  private forgetBefore(oldestMs: number): void {
    for (const startMs of this.buckets.keys()) if (startMs < oldestMs) this.buckets.delete(startMs);
  }
}

function bucketStart(ms: number): number {
  return ms - (ms % RECENT_BUCKET_MS);
}
