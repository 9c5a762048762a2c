// The unfinished jobs the dashboard lists (downloads, spawns, stops), newest first, each with its
// newest progress from its JobSession. One D1 query plus one JobSession call per listed job;
// the list is capped, so a backlog of queued jobs costs no more than MAX_DASHBOARD_JOBS calls.
import { desc, inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { DashboardJob } from "../../shared/dashboard/dashboard-snapshot.js";
import { jobs } from "../db/schema.js";
import { jobSessionStub } from "../jobs/stub.js";

/** Jobs listed at most. */
export const MAX_DASHBOARD_JOBS = 20;

export async function dashboardJobs(env: Env): Promise<DashboardJob[]> {
  const rows = await drizzle(env.DB)
    .select({ id: jobs.id, operation: jobs.operation, hive: jobs.hiveName, params: jobs.params, status: jobs.status, createdAt: jobs.createdAt })
    .from(jobs)
    .where(inArray(jobs.status, ["queued", "running"]))
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(MAX_DASHBOARD_JOBS);
  return Promise.all(
    rows.map(async (row) => ({
      id: row.id,
      operation: row.operation,
      hive: row.hive,
      status: row.status === "running" ? "running" : "queued",
      subject: subjectOf(row.params),
      created_at: row.createdAt.toISOString(),
      progress: await jobSessionStub(env, row.id).latestProgress(),
    })),
  );
}

/** The model, worker or worker type a job is about, from its submitted request. */
function subjectOf(params: unknown): string | null {
  if (typeof params !== "object" || params === null) return null;
  for (const field of ["model", "worker_id", "worker_type"]) {
    const value = (params as Record<string, unknown>)[field];
    if (typeof value === "string") return value;
  }
  return null;
}
