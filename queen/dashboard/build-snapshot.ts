// Assembles one dashboard snapshot from what the queen already keeps: the fleet (Registry and
// D1: dashboard-fleet.ts), unfinished jobs (D1 and JobSessions: dashboard-jobs.ts) and the
// traffic series of the one Metrics object. Nothing here is stored; each call reads it fresh.
import type { DashboardSnapshot } from "../../shared/dashboard/dashboard-snapshot.js";
import { metricsStub } from "../metrics/metrics-store.js";
import { RECENT_BUCKET_MS } from "../metrics/recent-requests.js";
import { dashboardFleet } from "./dashboard-fleet.js";
import { dashboardJobs } from "./dashboard-jobs.js";

export async function buildSnapshot(env: Env): Promise<DashboardSnapshot> {
  const [fleet, jobs, buckets] = await Promise.all([dashboardFleet(env), dashboardJobs(env), metricsStub(env).recentTraffic()]);
  return { at: new Date().toISOString(), ...fleet, jobs, traffic: { bucket_seconds: RECENT_BUCKET_MS / 1000, buckets } };
}
