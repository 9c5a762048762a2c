// Sends this isolate's request samples to the Metrics Durable Object in batches, off every
// response's path: a sample joins the isolate's batch, and the first sample of a batch schedules
// its flush FLUSH_DELAY_MS later under that request's ctx.waitUntil, so a busy isolate makes one
// call a second, not one per request. A batch that fails to send is dropped with a log line:
// metrics must never hold up or fail an answer.
import { metricsStub } from "./metrics-store.js";
import type { RequestSample } from "./request-metrics.js";

/** How long a batch collects samples before it is sent, ms. */
export const FLUSH_DELAY_MS = 1000;
/** A batch this big is sent at once. */
const MAX_BATCH = 500;

let batch: RequestSample[] = [];
let flushScheduled = false;

export function reportRequest(env: Env, waitUntil: (promise: Promise<unknown>) => void, sample: RequestSample): void {
  batch.push(sample);
  if (batch.length >= MAX_BATCH) {
    waitUntil(flush(env));
    return;
  }
  if (flushScheduled) return;
  flushScheduled = true;
  waitUntil(new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS)).then(() => flush(env)));
}

async function flush(env: Env): Promise<void> {
  flushScheduled = false;
  const samples = batch;
  batch = [];
  if (samples.length === 0) return;
  try {
    await metricsStub(env).record(samples);
  } catch (error) {
    console.warn(`could not send ${samples.length} request sample(s) to the Metrics object: ${String(error)}`);
  }
}
