// A worker_spawn its hive cancels, as a stopping hive does with a job the queen starts after the
// stop began (hive/jobs/job-runner.ts): the request waiting for that worker is told why, in the
// hive's words, rather than only that the job "ended cancelled". One an admin cancels
// (DELETE /v1/jobs/:id) is not started on another hive instead. Through the real HiveSession,
// Registry and JobSession, with test hives answering as real ones.
import { describe, expect, it } from "vitest";
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import { call, errorOf } from "./admin-api.js";
import { eventually, helloFrame, TestHive } from "./hive-socket.js";
import { deleteJob, sendJobEvent } from "./job-client.js";

const GIB = 1024 ** 3;
const MODEL = "cancelled-spawn-model";
const CATALOG: CatalogModel[] = [{ source: `file:/models/${MODEL}.gguf`, name: MODEL, sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }];

/** The hive connected (again) and greeted, with the model in its catalog. */
async function hiveWithModel(token: string, name = "cancelling-hive"): Promise<TestHive> {
  const hive = await TestHive.connect(name, token);
  hive.send({ ...helloFrame(), models: CATALOG });
  await hive.next("welcome");
  return hive;
}

/** A chat for the model, and the worker_spawn job the queen starts on `hive` for it. */
async function chatSpawning(hive: TestHive, model = MODEL): Promise<{ answer: Promise<Response>; jobId: string }> {
  const answer = call("POST", "/v1/chat/completions", { body: { model, messages: [{ role: "user", content: "hi" }] } });
  const start = await hive.next("job_start");
  expect(start.operation).toMatchObject({ operation: "worker_spawn", model });
  return { answer, jobId: start.jobId };
}

describe("a spawn its hive cancels", () => {
  it("refuses the request that waited for it with the hive's reason, and tries the hive again once it is back", async () => {
    const token = await TestHive.register("cancelling-hive");
    const hive = await hiveWithModel(token);
    const first = await chatSpawning(hive);
    sendJobEvent(hive, first.jobId, { type: "cancelled", message: "the hive is shutting down" });

    const response = await first.answer;
    expect(response.status).toBe(503);
    // A hive's own failure: the SDKs may retry, after Retry-After.
    expect(response.headers.get("x-should-retry")).toBeNull();
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await errorOf(response)).toMatchObject({
      code: "worker_spawn_failed",
      message: expect.stringContaining("the spawn job was cancelled: the hive is shutting down"),
    });

    // The hive, started again, says hello: the model may be started there again.
    hive.ws.close(1000, "hive shutting down");
    const back = await hiveWithModel(token);
    const again = await chatSpawning(back);
    sendJobEvent(back, again.jobId, { type: "error", code: "model_load_failed", message: "the test hive starts no worker" });
    expect((await again.answer).status).toBe(503);
  });

  it("starts no worker on another hive when an admin cancelled the spawn, and refuses the request that waited for it saying so", async () => {
    const model = "admin-cancelled-model";
    const catalog: CatalogModel[] = [{ source: `file:/models/${model}.gguf`, name: model, sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }];
    const hives: TestHive[] = [];
    for (const name of ["admin-cancel-a", "admin-cancel-b"]) {
      const hive = await TestHive.connect(name, await TestHive.register(name));
      hive.send({ ...helloFrame(), models: catalog });
      await hive.next("welcome");
      hives.push(hive);
    }
    const answer = call("POST", "/v1/chat/completions", { body: { model, messages: [{ role: "user", content: "hi" }] } });
    await eventually(async () => hives.some((hive) => hive.frames.some((frame) => frame.type === "job_start")));
    const spawning = hives.find((hive) => hive.frames.some((frame) => frame.type === "job_start"));
    if (spawning === undefined) throw new Error("no hive got the spawn");
    const { jobId } = await spawning.next("job_start");
    expect((await deleteJob(jobId)).status).toBe(202);
    await spawning.next("job_cancel");
    sendJobEvent(spawning, jobId, { type: "cancelled", message: `job ${jobId} was cancelled` });

    const response = await answer;
    expect(response.status).toBe(503);
    // An admin's cancel is not to be retried by the SDKs; Retry-After says when rbee would start it again.
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(25);
    expect(response.headers.get("x-should-retry")).toBe("false");
    expect(await errorOf(response)).toMatchObject({ code: "worker_spawn_failed", message: expect.stringContaining("the spawn job was cancelled by an admin") });
    // The next request is refused the same, with no job on either hive.
    const next = await call("POST", "/v1/chat/completions", { body: { model, messages: [{ role: "user", content: "hi" }] } });
    expect(next.status).toBe(503);
    expect(await errorOf(next)).toMatchObject({ message: expect.stringContaining("no hive starts one on its own for a while") });
    expect(hives.flatMap((hive) => hive.frames.filter((frame) => frame.type === "job_start"))).toEqual([]);
  });
});
