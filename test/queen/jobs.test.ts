import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { auth, eventually, TestHive } from "./hive-socket.js";
import { deleteJob, getJob, openStream, postJob, postWorker, readEvents, readUntilSeq, sendJobEvent, submitJob, spawnWorker } from "./job-client.js";

function narrate(hive: TestHive, jobId: string, n: number): void {
  sendJobEvent(hive, jobId, { type: "narration", action: `step${n}`, message: `step ${n}` });
}

describe("jobs", () => {
  it("hands a job to its hive and streams its events in order, ending once", async () => {
    const hive = await TestHive.greeted("job-hive");
    const job = await submitJob({ operation: "hive_check", hive: "job-hive" });
    expect(job.job_id).toMatch(/^job_/);
    // A path, not a URL made from the request's: behind a proxy that would name an address the client may not reach.
    expect(job.stream_url).toBe(`/v1/jobs/${job.job_id}/stream`);
    const start = await hive.next("job_start");
    expect(start).toEqual({ type: "job_start", jobId: job.job_id, operation: { operation: "hive_check" } });
    expect((await getJob(job.job_id)).body).toMatchObject({ id: job.job_id, operation: "hive_check", hive: "job-hive", status: "running" });

    const stream = await openStream(job.job_id);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    for (let n = 1; n <= 20; n++) narrate(hive, job.job_id, n);
    sendJobEvent(hive, job.job_id, { type: "progress", bytes: 5, total: 10 });
    sendJobEvent(hive, job.job_id, { type: "data", payload: { cpu: { cores: 2 } } });
    sendJobEvent(hive, job.job_id, { type: "done" });

    const events = await readEvents(stream);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect(events.slice(0, 20).map((event) => (event.type === "narration" ? event.action : event.type))).toEqual(
      Array.from({ length: 20 }, (_, i) => `step${i + 1}`),
    );
    expect(events[0]).toMatchObject({ type: "narration", message: "step 1", job_id: job.job_id, hive: "job-hive", ts: expect.any(String) });
    expect(events.slice(20).map((event) => event.type)).toEqual(["progress", "data", "done"]);
    expect(events[21]).toMatchObject({ type: "data", payload: { cpu: { cores: 2 } } });
    await eventually(async () => (await getJob(job.job_id)).body.status === "done");
  });

  it("gives every watcher every event", async () => {
    const hive = await TestHive.greeted("watched-hive");
    const job = await submitJob({ operation: "hive_check", hive: "watched-hive" });
    await hive.next("job_start");
    const first = await openStream(job.job_id);
    const second = await openStream(job.job_id);
    for (let n = 1; n <= 5; n++) narrate(hive, job.job_id, n);
    sendJobEvent(hive, job.job_id, { type: "done" });
    const [a, b] = await Promise.all([readEvents(first), readEvents(second)]);
    expect(a.map((event) => event.type)).toEqual(["narration", "narration", "narration", "narration", "narration", "done"]);
    expect(b).toEqual(a);
  });

  it("gives a late watcher the events it missed, then the live ones", async () => {
    const hive = await TestHive.greeted("late-hive");
    const job = await submitJob({ operation: "hive_check", hive: "late-hive" });
    await hive.next("job_start");
    for (let n = 1; n <= 3; n++) narrate(hive, job.job_id, n);
    await readUntilSeq(job.job_id, 3);
    const late = await openStream(job.job_id);
    // Resuming after event 2, the way an EventSource reconnects.
    const resumed = await openStream(job.job_id, { "last-event-id": "2" });
    sendJobEvent(hive, job.job_id, { type: "done" });
    expect((await readEvents(late)).map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect((await readEvents(resumed)).map((event) => event.seq)).toEqual([3, 4]);
    // After the end, a watcher gets the whole log and the stream closes.
    expect((await readEvents(await openStream(job.job_id))).map((event) => event.type)).toEqual(["narration", "narration", "narration", "done"]);
  });

  it("cancels down to the hive and ends the job cancelled", async () => {
    const hive = await TestHive.greeted("cancel-job-hive");
    const job = await submitJob({ operation: "hive_check", hive: "cancel-job-hive" });
    await hive.next("job_start");
    const stream = await openStream(job.job_id);
    const response = await deleteJob(job.job_id);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ job_id: job.job_id, status: "cancelling", stream_url: `/v1/jobs/${job.job_id}/stream` });
    expect(await hive.next("job_cancel")).toEqual({ type: "job_cancel", jobId: job.job_id });
    sendJobEvent(hive, job.job_id, { type: "cancelled", message: "aborted" });
    const events = await readEvents(stream);
    expect(events.at(-1)?.type).toBe("cancelled");
    await eventually(async () => (await getJob(job.job_id)).body.status === "cancelled");
    const again = await deleteJob(job.job_id);
    expect(again.status).toBe(409);
  });

  it("ends a running job as an error when its hive disconnects", async () => {
    const hive = await TestHive.greeted("dying-hive");
    const job = await submitJob({ operation: "hive_check", hive: "dying-hive" });
    await hive.next("job_start");
    const stream = await openStream(job.job_id);
    narrate(hive, job.job_id, 1);
    // A hive stops after the queen has its events: workerd may dispatch a hibernated socket's
    // close before a message that came just ahead of it, and a real hive replays what is unacked.
    expect(await hive.next("job_ack")).toMatchObject({ jobId: job.job_id, seq: 0 });
    hive.ws.close(1001, "going away");
    const events = await readEvents(stream);
    expect(events.map((event) => event.type)).toEqual(["narration", "error"]);
    expect(events[1]).toMatchObject({ code: "hive_disconnected", message: expect.stringContaining("rbee-hive") });
    const record = await getJob(job.job_id);
    expect(record.body).toMatchObject({ status: "error", error: expect.stringContaining("hive_disconnected") });
  });

  it("ends a job for a registered but offline hive as an error at once", async () => {
    await TestHive.register("absent-hive");
    const job = await submitJob({ operation: "hive_check", hive: "absent-hive" });
    const events = await readEvents(await openStream(job.job_id));
    expect(events).toEqual([expect.objectContaining({ type: "error", code: "hive_offline" })]);
    expect((await getJob(job.job_id)).body.status).toBe("error");
  });

  it("puts events delivered out of order back in the hive's order", async () => {
    const hive = await TestHive.greeted("shuffled-job-hive");
    const job = await submitJob({ operation: "hive_check", hive: "shuffled-job-hive" });
    await hive.next("job_start");
    const stream = await openStream(job.job_id);
    const frames = [
      { seq: 2, event: { type: "done" } },
      { seq: 0, event: { type: "narration", action: "a", message: "first" } },
      { seq: 2, event: { type: "done" } },
      { seq: 1, event: { type: "narration", action: "b", message: "second" } },
    ];
    for (const frame of frames) hive.send({ type: "job_event", jobId: job.job_id, ...frame });
    const events = await readEvents(stream);
    expect(events.map((event) => (event.type === "narration" ? event.message : event.type))).toEqual(["first", "second", "done"]);
  });

  it("cancels a job itself when the hive never confirms the cancel, and later expires the ended job's log", async () => {
    const hive = await TestHive.greeted("silent-hive");
    const job = await submitJob({ operation: "hive_check", hive: "silent-hive" });
    await hive.next("job_start");
    sendJobEvent(hive, job.job_id, { type: "narration", action: "a", message: "working" });
    expect((await deleteJob(job.job_id)).status).toBe(202);
    await hive.next("job_cancel");
    const session = env.JOB_SESSION.get(env.JOB_SESSION.idFromName(job.job_id));
    // The cancel deadline passes without a word from the hive.
    expect(await runDurableObjectAlarm(session)).toBe(true);
    const events = await readEvents(await openStream(job.job_id));
    expect(events.map((event) => event.type)).toEqual(["narration", "cancelled"]);
    expect(events[1]).toMatchObject({ message: expect.stringContaining("did not confirm") });
    expect((await getJob(job.job_id)).body.status).toBe("cancelled");
    // The retention alarm drops the log; the D1 record stays.
    expect(await runDurableObjectAlarm(session)).toBe(true);
    expect(await readEvents(await openStream(job.job_id))).toEqual([]);
    expect((await getJob(job.job_id)).body.status).toBe("cancelled");
  });

  it("ends a job that D1 says runs on a hive that is gone when it is read", async () => {
    // As if the queen went down while the job ran and the hive never came back.
    await env.DB.prepare("INSERT INTO jobs (id, operation, hive_name, params, status, created_at) VALUES (?, 'hive_check', 'ghost-hive', '{}', 'running', ?)")
      .bind("job_orphan1", Date.now())
      .run();
    const record = await getJob("job_orphan1");
    expect(record.body).toMatchObject({ status: "error", error: expect.stringContaining("hive_offline") });
  });

  it("refuses events a hive sends for another hive's job", async () => {
    const owner = await TestHive.greeted("job-owner-hive");
    const thief = await TestHive.greeted("job-thief-hive");
    const job = await submitJob({ operation: "hive_check", hive: "job-owner-hive" });
    await owner.next("job_start");
    sendJobEvent(thief, job.job_id, { type: "data", payload: { forged: true } });
    sendJobEvent(thief, job.job_id, { type: "done" });
    expect((await thief.next("error")).code).toBe("job_not_yours");
    sendJobEvent(owner, job.job_id, { type: "done" });
    const events = await readEvents(await openStream(job.job_id));
    expect(events.map((event) => event.type)).toEqual(["done"]);
  });

  it("answers ids that could be paths with 400 naming the field, and unknown jobs with 404", async () => {
    for (const path of ["/v1/jobs/job_..%2F..%2Fetc", "/v1/jobs/..%2Fx/stream"]) {
      const response = await SELF.fetch(`https://queen${path}`, { headers: auth });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { param: "id", message: expect.stringContaining("'id'") } });
    }
    const unknown = await getJob("job_doesnotexist");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: "job_not_found" } });
    const badOperation = await postJob({ operation: "format_disk", hive: "x" });
    expect(badOperation.status).toBe(400);
    const badWorker = await postJob({ operation: "worker_delete", worker_id: "wrk_../../x" });
    expect(await badWorker.json()).toMatchObject({ error: { param: "worker_id" } });
    const noHive = await postJob({ operation: "hive_check", hive: "never-registered" });
    expect(noHive.status).toBe(404);
    expect(await noHive.json()).toMatchObject({ error: { code: "hive_not_found", param: "hive" } });
  });
});

describe("worker routes on top of jobs", () => {
  it("starts a worker through a worker_spawn job and answers 201 with its pid and port", async () => {
    const hive = await TestHive.greeted("spawn-job-hive");
    const responsePromise = postWorker({ hive: "spawn-job-hive", model: "spawned-model", source: "file:/models/x.gguf" });
    const start = await hive.next("job_start");
    if (start.operation.operation !== "worker_spawn") throw new Error(`unexpected ${start.operation.operation}`);
    expect(start.operation).toMatchObject({ model: "spawned-model", source: "file:/models/x.gguf", workerId: expect.stringMatching(/^wrk_/) });
    const workerId = start.operation.workerId;
    sendJobEvent(hive, start.jobId, { type: "data", payload: { worker_id: workerId, pid: 777, port: 40123 } });
    sendJobEvent(hive, start.jobId, { type: "done" });
    const response = await responsePromise;
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ id: workerId, hive: "spawn-job-hive", model: "spawned-model", pid: 777, port: 40123, job_id: start.jobId });
  });

  it("passes the hive's reason on when a spawn fails", async () => {
    const hive = await TestHive.greeted("failing-spawn-hive");
    const responsePromise = postWorker({ hive: "failing-spawn-hive", model: "m", source: "file:/nope.gguf" });
    const start = await hive.next("job_start");
    sendJobEvent(hive, start.jobId, { type: "error", code: "model_file_not_found", message: "model file '/nope.gguf' does not exist" });
    const response = await responsePromise;
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "model_file_not_found", message: expect.stringContaining("/nope.gguf") } });
  });

  it("lists workers per hive and shows one", async () => {
    const a = await TestHive.greeted("list-hive-a");
    const b = await TestHive.greeted("list-hive-b");
    const lista1Id = await spawnWorker(a, "list-model");
    a.heartbeat(lista1Id, "list-model");
    const listb1Id = await spawnWorker(b, "list-model");
    b.heartbeat(listb1Id, "list-model");
    const list = async (query: string) => {
      const response = await SELF.fetch(`https://queen/v1/workers${query}`, { headers: auth });
      return ((await response.json()) as { data: { id: string }[] }).data.map((worker) => worker.id);
    };
    await eventually(async () => (await list("?hive_id=list-hive-b")).includes(listb1Id));
    expect(await list("?hive_id=list-hive-a")).toEqual([lista1Id]);
    const one = await SELF.fetch(`https://queen/v1/workers/${lista1Id}`, { headers: auth });
    expect(await one.json()).toMatchObject({ id: lista1Id, hive: "list-hive-a", pid: 4242, requests_in_flight: 0, cooling: false });
    expect((await SELF.fetch("https://queen/v1/workers/wrk_nobody", { headers: auth })).status).toBe(404);
    const bad = await SELF.fetch("https://queen/v1/workers/..%2Fetc", { headers: auth });
    expect(await bad.json()).toMatchObject({ error: { param: "id" } });
  });

  it("deletes a worker through a worker_delete job carrying the pid the registry knows", async () => {
    const hive = await TestHive.greeted("delete-job-hive");
    const del1Id = await spawnWorker(hive, "del-model");
    hive.heartbeat(del1Id, "del-model");
    await eventually(async () => (await SELF.fetch(`https://queen/v1/workers/${del1Id}`, { headers: auth })).status === 200);
    const response = await SELF.fetch(`https://queen/v1/workers/${del1Id}`, { method: "DELETE", headers: auth });
    expect(response.status).toBe(202);
    const { job_id: jobId, stream_url: streamUrl } = (await response.json()) as { job_id: string; stream_url: string };
    expect(streamUrl).toBe(`/v1/jobs/${jobId}/stream`);
    expect(await hive.next("job_start")).toEqual({ type: "job_start", jobId, operation: { operation: "worker_delete", workerId: del1Id, pid: 4242 } });
    sendJobEvent(hive, jobId, { type: "done" });
    await eventually(async () => (await SELF.fetch(`https://queen/v1/workers/${del1Id}`, { headers: auth })).status === 404);
  });

  it("records a spawned worker in worker_history and when and why it stopped", async () => {
    const hive = await TestHive.greeted("history-hive");
    const job = await submitJob({ operation: "worker_spawn", hive: "history-hive", model: "history-model", source: "file:/m.gguf" });
    const start = await hive.next("job_start");
    if (start.operation.operation !== "worker_spawn") throw new Error(`unexpected ${start.operation.operation}`);
    const workerId = start.operation.workerId;
    sendJobEvent(hive, job.job_id, { type: "data", payload: { worker_id: workerId, pid: 4242, port: 40001 } });
    sendJobEvent(hive, job.job_id, { type: "done" });
    const history = () => env.DB.prepare("SELECT * FROM worker_history WHERE id = ?").bind(workerId).first<Record<string, unknown>>();
    await eventually(async () => (await history()) !== null);
    expect(await history()).toMatchObject({ hive_name: "history-hive", model: "history-model", pid: 4242, port: 40001, stopped_at: null });

    hive.heartbeat(workerId, "history-model");
    await eventually(async () => (await SELF.fetch(`https://queen/v1/workers/${workerId}`, { headers: auth })).status === 200);
    const deleted = (await (await SELF.fetch(`https://queen/v1/workers/${workerId}`, { method: "DELETE", headers: auth })).json()) as { job_id: string };
    await hive.next("job_start");
    // As a real worker does on SIGTERM, before the hive reports the job done.
    hive.heartbeat(workerId, "history-model", "stopped");
    await eventually(async () => (await history())?.stop_reason === "stopped");
    sendJobEvent(hive, deleted.job_id, { type: "done" });
    await eventually(async () => (await history())?.stop_reason === "deleted");
    expect((await history())?.stopped_at).toEqual(expect.any(Number));
  });
});
