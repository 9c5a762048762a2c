// Submits a job: records it in D1, opens its JobSession, then hands it to its hive. The order
// matters: the JobSession exists before the hive can send its first event, and a hive that is
// offline ends the job as an error at once instead of leaving it queued. The params kept in D1 lose
// the query of any URL in them (a pre-signed link's credential); the hive gets them whole.
import { newId } from "../../shared/ids.js";
import { withoutQuery } from "../../shared/redact-url.js";
import type { HiveOperation, JobRequest } from "../../shared/protocol/job-operation.js";
import type { StartJobOutcome } from "../hive-session/hive-session.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import { insertJob, markRunning } from "./job-records.js";
import type { ResolvedJob } from "./resolve-job.js";
import { jobSessionStub } from "./stub.js";

export interface SubmittedJob {
  jobId: string;
  /** Path of the job's event stream (jobStreamPath). */
  streamPath: string;
}

/**
 * The path of a job's event stream, as answers give it (`stream_url`): a path, which the client
 * resolves against the URL it called. An absolute URL made from the request's own would name the
 * queen's address behind a proxy, which the client may not reach.
 */
export function jobStreamPath(jobId: string): string {
  return `/v1/jobs/${jobId}/stream`;
}

/**
 * `start` hands the job to its hive: its HiveSession's startJob, through a stub unless the caller
 * is that HiveSession itself.
 */
export async function submitJob(
  env: Env,
  request: JobRequest,
  job: ResolvedJob,
  start: (jobId: string, operation: HiveOperation) => Promise<StartJobOutcome> = (jobId, operation) => hiveSessionStub(env, job.hiveName).startJob(jobId, operation),
): Promise<SubmittedJob> {
  const jobId = newId("job");
  await insertJob(env.DB, { id: jobId, hiveName: job.hiveName, request: withoutCredentials(request) });
  const session = jobSessionStub(env, jobId);
  await session.open({ jobId, hiveName: job.hiveName, operation: job.operation.operation });
  const started = await start(jobId, job.operation);
  if (started.ok) {
    await markRunning(env.DB, jobId);
  } else {
    await session.finish({
      type: "error",
      code: started.code,
      message:
        started.code === "hive_offline"
          ? `hive '${job.hiveName}' is not connected; start it with \`rbee-hive connect\` and submit the job again`
          : `hive '${job.hiveName}' refused the job: ${started.message}`,
    });
  }
  return { jobId, streamPath: jobStreamPath(jobId) };
}

/** The request as D1 keeps it: every URL-valued field without its query (model and worker sources). */
export function withoutCredentials(request: JobRequest): JobRequest {
  return Object.fromEntries(Object.entries(request).map(([field, value]) => [field, typeof value === "string" ? withoutQuery(value) : value])) as JobRequest;
}
