// A worker_spawn its hive cancels, as a stopping hive does with a job the queen starts after the
// stop began (hive/jobs/job-runner.ts): the request waiting for that worker is told why, in the
// hive's words, rather than only that the job "ended cancelled". Through the real HiveSession,
// Registry and JobSession, with a test hive answering as a real one.
import { describe, expect, it } from "vitest";
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import { call, errorOf } from "./admin-api.js";
import { helloFrame, TestHive } from "./hive-socket.js";
import { sendJobEvent } from "./job-client.js";

const GIB = 1024 ** 3;
const MODEL = "cancelled-spawn-model";
const CATALOG: CatalogModel[] = [{ source: `file:/models/${MODEL}.gguf`, name: MODEL, sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }];

/** The hive connected (again) and greeted, with the model in its catalog. */
async function hiveWithModel(token: string): Promise<TestHive> {
  const hive = await TestHive.connect("cancelling-hive", token);
  hive.send({ ...helloFrame(), models: CATALOG });
  await hive.next("welcome");
  return hive;
}

/** A chat for the model, and the worker_spawn job the queen starts on `hive` for it. */
async function chatSpawning(hive: TestHive): Promise<{ answer: Promise<Response>; jobId: string }> {
  const answer = call("POST", "/v1/chat/completions", { body: { model: MODEL, messages: [{ role: "user", content: "hi" }] } });
  const start = await hive.next("job_start");
  expect(start.operation).toMatchObject({ operation: "worker_spawn", model: MODEL });
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
});
