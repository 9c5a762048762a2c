// GET /metrics (an admin key, or a key with the `metrics` scope): the queen in Prometheus's text
// format. Request counters come from the one Metrics Durable Object that adds up every isolate's
// requests (metrics/); what is true right now is read at scrape time: workers by model and state,
// hives online and the queue per model from the Registry, jobs (downloads, spawns) queued or
// running from D1. A scrape costs three DO calls and one D1 query, nothing per request.
import { count, inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { jobs } from "../db/schema.js";
import type { QueenEnv } from "../env.js";
import { metricsStub } from "../metrics/metrics-store.js";
import { type MetricFamily, PROMETHEUS_CONTENT_TYPE, type Sample, formatPrometheus } from "../metrics/prometheus-text.js";
import { registryStub } from "../registry/stub.js";

/** Job statuses that mean a job is in flight. */
const IN_FLIGHT = ["queued", "running"];

export const metricsRoutes = new Hono<QueenEnv>().get("/", async (c) => {
  const registry = registryStub(c.env);
  const [requestFamilies, stats, workers, queueDepths, jobRows] = await Promise.all([
    metricsStub(c.env).families(),
    registry.stats(),
    registry.listWorkers(),
    registry.queueDepths(),
    drizzle(c.env.DB)
      .select({ operation: jobs.operation, status: jobs.status, jobs: count() })
      .from(jobs)
      .where(inArray(jobs.status, IN_FLIGHT))
      .groupBy(jobs.operation, jobs.status),
  ]);
  const workersByModelState = new Map<string, Sample>();
  for (const worker of workers) {
    const key = `${worker.model}\u0000${worker.state}`;
    const sample = workersByModelState.get(key) ?? { labels: { model: worker.model, state: worker.state }, value: 0 };
    workersByModelState.set(key, { ...sample, value: sample.value + 1 });
  }
  const live: MetricFamily[] = [
    { name: "rbee_hives_online", help: "Hives connected to the queen now.", type: "gauge", samples: [{ labels: {}, value: stats.hives }] },
    { name: "rbee_workers", help: "Workers the queen knows now, by model and state.", type: "gauge", samples: [...workersByModelState.values()] },
    { name: "rbee_queue_depth", help: "Requests waiting in the queen's queue for a worker slot, all models.", type: "gauge", samples: [{ labels: {}, value: stats.queued }] },
    {
      name: "rbee_queue_depth_by_model",
      help: "Requests waiting in the queen's queue for a worker slot, per model with any waiting.",
      type: "gauge",
      samples: Object.entries(queueDepths).map(([model, value]) => ({ labels: { model }, value })),
    },
    {
      name: "rbee_jobs_in_flight",
      help: "Jobs (model downloads, worker spawns and stops) queued or running on hives, by operation and status.",
      type: "gauge",
      samples: jobRows.map((row) => ({ labels: { operation: row.operation, status: row.status }, value: row.jobs })),
    },
  ];
  return c.body(formatPrometheus([...requestFamilies, ...live]), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
});
