// Sends this isolate's request samples to the Metrics Durable Object in batches, off every
// response's path: a sample joins the isolate's batch, and the first sample of a batch schedules
// its flush FLUSH_DELAY_MS later under that request's ctx.waitUntil, so a busy isolate makes one
// call a second, not one per request. A batch that fails to send is dropped with a log line:
// metrics must never hold up or fail an answer.
import { DeferredFlush } from "../observability/deferred-flush.js";
import { metricsStub } from "./metrics-store.js";
import type { RequestSample } from "./request-metrics.js";

/** How long a batch collects samples before it is sent, ms. */
export const FLUSH_DELAY_MS = 1000;
/** A batch this big is sent at once. */
const MAX_BATCH = 500;

let batch: RequestSample[] = [];
const sender = new DeferredFlush(FLUSH_DELAY_MS);

export function reportRequest(env: Env, waitUntil: (promise: Promise<unknown>) => void, sample: RequestSample): void {
  batch.push(sample);
  sender.added(waitUntil, () => flush(env), batch.length >= MAX_BATCH);
}

/**
 * Sends the batch now rather than when its timer fires: the local queen's clean stop calls it
 * (scripts/local-cloud/queen-entry.ts) before workerd is killed, which would take the batch
 * and its pending waitUntil with it. Cloudflare lets waitUntil finish; nothing else needs this.
 */
export function sendMetricsBatchNow(env: Env): Promise<void> {
  return flush(env);
}

async function flush(env: Env): Promise<void> {
  const samples = batch;
  batch = [];
  if (samples.length === 0) return;
  try {
    await metricsStub(env).record(samples);
  } catch (error) {
    console.warn(`could not send ${samples.length} request sample(s) to the Metrics object: ${String(error)}`);
  }
}
