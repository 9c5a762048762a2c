// The daily look at jobs D1 still calls unfinished after a day: each one's JobSession gets an
// alarm if it has none, so it ends (job_stalled) and its storage goes even when it was opened
// before idle checks existed; a job whose JobSession never heard of it can never end on its own,
// so it is ended here as job_lost. Run by the queen's scheduled handler after pruning.
import { and, inArray, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { jobs } from "../db/schema.js";
import { markEnded } from "../jobs/job-records.js";
import { JOB_IDLE_CHECK_MS } from "../jobs/job-session.js";
import { jobSessionStub } from "../jobs/stub.js";
import { JOB_LOST } from "../jobs/job-lost.js";

/** Jobs looked at per run; more wait for the next day. */
const MAX_JOBS_PER_RUN = 500;

export interface ExpiredJobs {
  /** Unfinished jobs whose JobSession was asked to keep its alarm. */
  checked: number;
  /** Jobs ended as job_lost. */
  lost: number;
}

export async function expireUnfinishedJobs(env: Env, nowMs: number): Promise<ExpiredJobs> {
  const unfinished = await drizzle(env.DB)
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(inArray(jobs.status, ["queued", "running"]), lt(jobs.createdAt, new Date(nowMs - JOB_IDLE_CHECK_MS))))
    .limit(MAX_JOBS_PER_RUN);
  let lost = 0;
  for (const { id } of unfinished) {
    if (await jobSessionStub(env, id).ensureExpiry()) continue;
    lost += 1;
    await markEnded(env.DB, id, {
      type: "error",
      code: JOB_LOST,
      message: "the queen holds no events for this job and nothing can end it any more; submit it again",
    });
  }
  return { checked: unfinished.length - lost, lost };
}
