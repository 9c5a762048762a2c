// A hive that freezes mid-request (SIGSTOP: its socket stays open, its worker falls silent): the
// request fails over, and the worker started for it goes to another hive that has the model, not
// to the frozen one, which still looks idle and still lists the model until its own silence
// times out. Through the real HiveSession and Registry, with test hives answering as real ones.
import { describe, expect, it, onTestFinished } from "vitest";
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import { call } from "./admin-api.js";
import { eventually, helloFrame, modelState, TestHive } from "./hive-socket.js";
import { keepBeating, sendJobEvent, spawnWorker } from "./job-client.js";

const GIB = 1024 ** 3;
const MODEL = "frozen-model";
const CATALOG: CatalogModel[] = [{ source: `file:/models/${MODEL}.gguf`, name: MODEL, sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }];

/** A hive that has the model in its catalog; alike in all but name, so the name decides a tie. */
async function hiveWithModel(name: string): Promise<TestHive> {
  const hive = await TestHive.connect(name, await TestHive.register(name));
  hive.send({ ...helloFrame(), models: CATALOG });
  await hive.next("welcome");
  return hive;
}

describe("a hive that freezes mid-request", () => {
  it("has the failed-over request's new worker started on another hive", async () => {
    // "frozen-b" sorts first: with nothing against it, a tie would start the new worker there.
    const frozen = await hiveWithModel("frozen-b");
    const healthy = await hiveWithModel("frozen-c");
    const workerId = await spawnWorker(frozen, MODEL);
    const beating = setInterval(() => frozen.heartbeat(workerId, MODEL), 100);
    onTestFinished(() => clearInterval(beating));
    await eventually(async () => (await modelState(MODEL)) === "loaded");

    const answer = call("POST", "/v1/chat/completions", { body: { model: MODEL, messages: [{ role: "user", content: "hi" }] } });
    await frozen.next("request");
    // The worker falls silent; the test hive's pings go on, as a frozen hive's socket stays open
    // until its own silence times out.
    clearInterval(beating);

    const start = await healthy.next("job_start");
    expect(start.operation).toMatchObject({ operation: "worker_spawn", model: MODEL });
    expect(frozen.frames.filter((frame) => frame.type === "job_start")).toEqual([]);
    if (start.operation.operation !== "worker_spawn") throw new Error("expected a worker_spawn");
    sendJobEvent(healthy, start.jobId, { type: "data", payload: { worker_id: start.operation.workerId, pid: 4343, port: 40002 } });
    // As a real hive's: the worker beats before its spawn job ends (the job ends once it is loaded).
    keepBeating(healthy, start.operation.workerId, MODEL);
    const request = await healthy.next("request");
    sendJobEvent(healthy, start.jobId, { type: "done" });
    healthy.respond(request.requestId, 200, "{}");
    expect((await answer).status).toBe(200);
  });
});
