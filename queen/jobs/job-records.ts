// The durable job records in D1: created when a job is submitted, marked running once its hive
// has it, and ended with its terminal status. Status moves forward only (queued → running →
// done | error | cancelled), so a late "running" never overwrites an end that raced it.
import { and, desc, eq, inArray, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { JobStatus, TerminalJobEvent } from "../../shared/protocol/job-event.js";
import type { JobRequest } from "../../shared/protocol/job-operation.js";
import { type JobRecord, jobs } from "../db/schema.js";

const UNFINISHED: JobStatus[] = ["queued", "running"];

export function isFinished(status: string): boolean {
  return !UNFINISHED.includes(status as JobStatus);
}

export async function insertJob(db: D1Database, job: { id: string; hiveName: string; request: JobRequest }): Promise<void> {
  await drizzle(db)
    .insert(jobs)
    .values({ id: job.id, operation: job.request.operation, hiveName: job.hiveName, params: job.request, status: "queued", createdAt: new Date() });
}

export async function findJob(db: D1Database, id: string): Promise<JobRecord | undefined> {
  const [record] = await drizzle(db).select().from(jobs).where(eq(jobs.id, id)).limit(1);
  return record;
}

/** The newest jobs first, optionally only one hive's and only in one status. */
export async function listJobs(db: D1Database, filter: { hiveName?: string | undefined; status?: JobStatus | undefined; limit: number }): Promise<JobRecord[]> {
  const conditions: SQL[] = [];
  if (filter.hiveName !== undefined) conditions.push(eq(jobs.hiveName, filter.hiveName));
  if (filter.status !== undefined) conditions.push(eq(jobs.status, filter.status));
  return drizzle(db)
    .select()
    .from(jobs)
    .where(conditions.length === 0 ? undefined : and(...conditions))
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(filter.limit);
}

export async function markRunning(db: D1Database, id: string): Promise<void> {
  await drizzle(db)
    .update(jobs)
    .set({ status: "running", startedAt: new Date() })
    .where(and(eq(jobs.id, id), eq(jobs.status, "queued")));
}

export async function markEnded(db: D1Database, id: string, end: TerminalJobEvent): Promise<void> {
  await drizzle(db)
    .update(jobs)
    .set({ status: end.type, endedAt: new Date(), error: end.type === "error" ? `${end.code}: ${end.message}` : null })
    .where(and(eq(jobs.id, id), inArray(jobs.status, UNFINISHED)));
}

/** The public shape of a job record, as GET /v1/jobs/:id answers it. */
export function toJobView(record: JobRecord) {
  return {
    id: record.id,
    object: "job",
    operation: record.operation,
    hive: record.hiveName,
    params: record.params,
    status: record.status,
    created_at: record.createdAt.toISOString(),
    started_at: record.startedAt?.toISOString() ?? null,
    ended_at: record.endedAt?.toISOString() ?? null,
    error: record.error,
  };
}
