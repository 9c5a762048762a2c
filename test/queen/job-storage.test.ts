// A job's events against the limits of its JobSession's storage: an oversized payload never
// wedges a job, an event that cannot be stored ends it as an error, a job that goes quiet ends
// and its storage goes, and D1 keeps answering for it.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_JOB_DATA_BYTES } from "../../shared/protocol/job-event.js";
import type { JobSession } from "../../queen/jobs/job-session.js";
import { TestHive } from "./hive-socket.js";
import { getJob, openStream, postWorker, readEvents, readUntilSeq, submitJob } from "./job-client.js";

function jobSession(jobId: string) {
  return env.JOB_SESSION.get(env.JOB_SESSION.idFromName(jobId));
}

/** Larger than any value Durable Object storage takes (2 MB), as only a hostile or broken caller would send. */
const UNSTORABLE = { blob: "x".repeat(8 * 1024 * 1024) };

describe("job event storage", () => {
  it("refuses a data event over the cap without wedging its job: later events still land", async () => {
    const hive = await TestHive.greeted("big-data-hive");
    const job = await submitJob({ operation: "model_list", hive: "big-data-hive" });
    await hive.next("job_start");
    const stream = await openStream(job.job_id);
    hive.send({ type: "job_event", jobId: job.job_id, seq: 0, event: { type: "data", payload: { models: ["m".repeat(MAX_JOB_DATA_BYTES)] } } });
    const refusal = await hive.next("error");
    expect(refusal).toMatchObject({ code: "invalid_frame", message: expect.stringContaining(String(MAX_JOB_DATA_BYTES)) });
    // What a hive sends instead: its operation failed on the cap (hive/jobs/clamp-job-event.ts).
    hive.send({ type: "job_event", jobId: job.job_id, seq: 0, event: { type: "narration", action: "list", message: "listing" } });
    hive.send({ type: "job_event", jobId: job.job_id, seq: 1, event: { type: "error", code: "job_data_too_large", message: "too many models" } });
    const events = await readEvents(stream);
    expect(events.map((event) => event.type)).toEqual(["narration", "error"]);
    expect((await getJob(job.job_id)).body).toMatchObject({ status: "error", error: expect.stringContaining("job_data_too_large") });
  });

  it("ends a job as job_event_unrecordable when its event cannot be stored, and POST /v1/workers answers at once", async () => {
    const hive = await TestHive.greeted("unstorable-hive");
    const responsePromise = postWorker({ hive: "unstorable-hive", model: "unstorable-model", source: "file:/m.gguf" });
    const start = await hive.next("job_start");
    hive.send({ type: "job_event", jobId: start.jobId, seq: 0, event: { type: "narration", action: "spawn", message: "starting" } });
    await readUntilSeq(start.jobId, 1);
    const session = jobSession(start.jobId);
    // Past the frame schema, straight to the object: the write itself fails.
    const outcome = await runInDurableObject(session, (instance: JobSession) =>
      instance.append("unstorable-hive", 1, { type: "data", payload: UNSTORABLE }),
    );
    expect(outcome).toMatchObject({ accepted: true, ended: true });

    const response = await responsePromise;
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "job_event_unrecordable" } });
    const events = await readEvents(await openStream(start.jobId));
    expect(events.map((event) => event.type)).toEqual(["narration", "error"]);
    expect(events[1]).toMatchObject({ seq: 2, code: "job_event_unrecordable", message: expect.stringContaining("unstorable-hive") });
    expect((await getJob(start.jobId)).body).toMatchObject({ status: "error", error: expect.stringContaining("job_event_unrecordable") });
    // Later events are refused as after any end, and the stored state is the one the stream showed.
    hive.send({ type: "job_event", jobId: start.jobId, seq: 2, event: { type: "done" } });
    expect((await hive.next("error")).code).toBe("job_ended");
    const stored = await runInDurableObject(session, async (_instance: JobSession, state) => state.storage.get<{ lastSeq: number; result: unknown }>("meta"));
    expect(stored).toMatchObject({ lastSeq: 2, result: null });
  });

  it("ends a job that says nothing between two idle checks, then deletes its storage while GET still answers from D1", async () => {
    const hive = await TestHive.greeted("quiet-hive");
    const job = await submitJob({ operation: "hive_check", hive: "quiet-hive" });
    await hive.next("job_start");
    hive.send({ type: "job_event", jobId: job.job_id, seq: 0, event: { type: "narration", action: "a", message: "working" } });
    const stream = await openStream(job.job_id);
    const session = jobSession(job.job_id);
    // The first check sees an event since the job opened; the second sees none since the first.
    expect(await runDurableObjectAlarm(session)).toBe(true);
    expect((await getJob(job.job_id)).body.status).toBe("running");
    expect(await runDurableObjectAlarm(session)).toBe(true);
    const events = await readEvents(stream);
    expect(events.map((event) => event.type)).toEqual(["narration", "error"]);
    expect(events[1]).toMatchObject({ code: "job_stalled" });
    expect((await getJob(job.job_id)).body).toMatchObject({ status: "error", error: expect.stringContaining("job_stalled") });
    // The retention alarm deletes the object's storage; the record stays.
    expect(await runDurableObjectAlarm(session)).toBe(true);
    expect(await runInDurableObject(session, async (_instance: JobSession, state) => (await state.storage.list()).size)).toBe(0);
    expect(await readEvents(await openStream(job.job_id))).toEqual([]);
    expect((await getJob(job.job_id)).body).toMatchObject({ id: job.job_id, status: "error" });
  });
});
