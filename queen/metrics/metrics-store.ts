// Metrics implements the one Durable Object (named METRICS_OBJECT_NAME) that adds up the queen's
// request counters across every isolate that serves requests: an isolate's own counters would
// show only its share. Isolates send batches off the response path (metrics-reporter.ts); GET
// /metrics reads the families at scrape time. The counters are saved with each batch (batches
// come at most about once a second per isolate), so an evicted object goes on counting from
// where it was instead of resetting every series. The same batches feed the dashboard's traffic
// chart: a ten-minute series of time buckets (recent-requests.ts).
import { DurableObject } from "cloudflare:workers";
import type { TrafficBucket } from "../../shared/dashboard/dashboard-snapshot.js";
import type { MetricFamily } from "./prometheus-text.js";
import { RecentRequests, type StoredBucket } from "./recent-requests.js";
import { RequestMetrics, type RequestMetricsState, type RequestSample } from "./request-metrics.js";

const STATE_KEY = "request-metrics";
const RECENT_KEY = "recent-requests";
export const METRICS_OBJECT_NAME = "queen";

export class Metrics extends DurableObject<Env> {
  private metrics = new RequestMetrics();
  private recent = new RecentRequests();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.metrics = new RequestMetrics(await ctx.storage.get<RequestMetricsState>(STATE_KEY));
      this.recent = new RecentRequests(await ctx.storage.get<StoredBucket[]>(RECENT_KEY));
    });
  }

  /** Adds one isolate's batch of request samples. */
  async record(samples: RequestSample[]): Promise<void> {
    this.metrics.add(samples);
    this.recent.add(samples, Date.now());
    await this.ctx.storage.put({ [STATE_KEY]: this.metrics.state(), [RECENT_KEY]: this.recent.state() });
  }

  /** Requests, errors and time to first token over the last ten minutes, in time buckets (the dashboard). */
  async recentTraffic(): Promise<TrafficBucket[]> {
    return this.recent.series(Date.now());
  }

  /** The request counters as metric families, for GET /metrics. */
  async families(): Promise<MetricFamily[]> {
    return this.metrics.families();
  }
}

export function metricsStub(env: Env): DurableObjectStub<Metrics> {
  return env.METRICS.get(env.METRICS.idFromName(METRICS_OBJECT_NAME));
}
