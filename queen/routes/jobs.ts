// /v1/jobs: list jobs (newest first), submit a job for a hive, read its record, follow its events as Server-Sent Events
// (with the backlog a late watcher missed), and cancel it down to the hive.
import { Hono } from "hono";
import { RbeeError } from "../../shared/errors.js";
import { JobStatus } from "../../shared/protocol/job-event.js";
import { HiveName } from "../../shared/protocol/hive-name.js";
import { JobId, JobRequest } from "../../shared/protocol/job-operation.js";
import { parseRequest } from "../../shared/validation.js";
import type { QueenEnv } from "../env.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import { readJson } from "../http/read-json.js";
import { pageLimit } from "../http/list-page.js";
import { parseParam } from "../http/parse-param.js";
import { isFinished, listJobs, toJobView } from "../jobs/job-records.js";
import { readJob } from "../jobs/reconcile-job.js";
import { resolveJob } from "../jobs/resolve-job.js";
import { jobSessionStub } from "../jobs/stub.js";
import { jobStreamPath, submitJob } from "../jobs/submit-job.js";

/** `Last-Event-ID` as an EventSource sends it on reconnect; anything else means "from the start". */
function lastEventId(header: string | undefined): number {
  const parsed = Number(header);
  return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : 0;
}

/** How many jobs GET /v1/jobs lists at most, and by default. */
const JobListLimit = pageLimit(50, 200);

export const jobRoutes = new Hono<QueenEnv>()
  .get("/", async (c) => {
    const hiveName = parseParam("hive", HiveName.optional(), c.req.query("hive"));
    const status = parseParam("status", JobStatus.optional(), c.req.query("status"));
    const limit = parseParam("limit", JobListLimit, c.req.query("limit"));
    const records = await listJobs(c.env.DB, { hiveName, status, limit });
    return c.json({ object: "list", data: records.map(toJobView) });
  })
  .post("/", async (c) => {
    const request = parseRequest(JobRequest, await readJson(c));
    const submitted = await submitJob(c.env, request, await resolveJob(c.env, request));
    return c.json({ job_id: submitted.jobId, stream_url: submitted.streamPath }, 202);
  })
  .get("/:id", async (c) => {
    const jobId = parseParam("id", JobId, c.req.param("id"));
    return c.json(toJobView(await readJob(c.env, jobId)));
  })
  .get("/:id/stream", async (c) => {
    const jobId = parseParam("id", JobId, c.req.param("id"));
    await readJob(c.env, jobId);
    return jobSessionStub(c.env, jobId).stream(lastEventId(c.req.header("last-event-id")));
  })
  .delete("/:id", async (c) => {
    const jobId = parseParam("id", JobId, c.req.param("id"));
    const record = await readJob(c.env, jobId);
    if (isFinished(record.status)) {
      throw new RbeeError(409, "job_already_ended", `Job '${jobId}' already ended (${record.status}); there is nothing to cancel.`, {
        param: "id",
      });
    }
    const session = jobSessionStub(c.env, jobId);
    await session.requestCancel();
    const sent = await hiveSessionStub(c.env, record.hiveName).cancelJob(jobId);
    // Nobody on the hive side will confirm: end it here.
    if (sent !== "sent") await session.finish({ type: "cancelled", message: "cancelled before the hive was running it" });
    return c.json({ job_id: jobId, status: "cancelling", stream_url: jobStreamPath(jobId) }, 202);
  });
