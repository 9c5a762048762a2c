// Reads a job's D1 record and makes sure an unfinished one is still real: a job whose hive is
// gone for good (offline past its reconnect grace), whose hive is back without it, or that never
// left `queued`, is ended as an error here, so no record says `running` forever.
import { RbeeError } from "../../shared/errors.js";
import type { JobRecord } from "../db/schema.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import { findJob, isFinished, markEnded } from "./job-records.js";
import { jobSessionStub } from "./stub.js";
import { JOB_LOST } from "./job-lost.js";

/** A job still `queued` after this long was lost between D1 and its hive (ms). */
const QUEUED_LIMIT_MS = 60_000;

export async function readJob(env: Env, jobId: string): Promise<JobRecord> {
  const record = await findJob(env.DB, jobId);
  if (!record) throw new RbeeError(404, "job_not_found", `No job '${jobId}'.`, { param: "id" });
  if (isFinished(record.status)) return record;
  const lost = await lostBecause(env, record);
  if (lost === undefined) return record;
  const end = { type: "error", code: lost.code, message: lost.message } as const;
  // The JobSession ends the stream and mirrors the end to D1 (its own end, if it had one); writing
  // D1 here as well covers a JobSession that never heard of the job (the queen stopped between D1
  // and opening it). markEnded never overwrites an end.
  await jobSessionStub(env, jobId).finish(end);
  await markEnded(env.DB, jobId, end);
  return (await findJob(env.DB, jobId)) ?? record;
}

async function lostBecause(env: Env, record: JobRecord): Promise<{ code: string; message: string } | undefined> {
  const liveness = await hiveSessionStub(env, record.hiveName).jobLiveness(record.id, record.hiveName);
  if (liveness === "offline") {
    return {
      code: "hive_offline",
      message: `hive '${record.hiveName}' went offline while the job ran; check that rbee-hive is running there, then submit the job again`,
    };
  }
  if (liveness === "untracked" && record.status === "running") {
    return { code: JOB_LOST, message: `hive '${record.hiveName}' no longer runs this job; submit the job again` };
  }
  if (record.status === "queued" && Date.now() - record.createdAt.getTime() > QUEUED_LIMIT_MS) {
    return { code: "job_not_started", message: "the job was never handed to its hive (the queen restarted?); submit it again" };
  }
  return undefined;
}
