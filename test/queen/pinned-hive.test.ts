// `model@hive` through the queen: placed on that hive's worker; refused 404 when no hive of that
// name is registered (it will never come: clients must not retry), and 503 with Retry-After when
// one is registered but not connected now. GET /v1/models/model@hive shows the model as such a
// request finds it: its state on that hive alone.
import { describe, expect, it } from "vitest";
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import { call, errorOf } from "./admin-api.js";
import { eventually, helloFrame, TestHive } from "./hive-socket.js";
import { hiveServing, keepBeating, sendJobEvent } from "./job-client.js";
import { parsePrometheus } from "./prometheus-text.js";

const GIB = 1024 ** 3;

function chat(model: string): Promise<Response> {
  return call("POST", "/v1/chat/completions", { body: { model, messages: [{ role: "user", content: "hi" }] } });
}

describe("model@hive", () => {
  it("places on the named hive, and tells an unknown hive from one that is away", async () => {
    const hive = await hiveServing("pin-hive", "pin-model");
    const answer = chat("pin-model@pin-hive");
    const request = await hive.next("request");
    hive.respond(request.requestId, 200, "{}");
    const answered = await answer;
    expect(answered.status).toBe(200);
    await answered.text();
    // Counted as the model's request: one series per model, not per pin.
    const scrape = async () => parsePrometheus(await (await call("GET", "/metrics")).text());
    await eventually(async () => (await scrape()).get('rbee_requests_total{model="pin-model",status="200"}') === 1);
    expect([...(await scrape()).keys()].some((series) => series.includes("pin-model@"))).toBe(false);

    const unknown = await chat("pin-model@no-such-hive");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("retry-after")).toBeNull();
    expect(await errorOf(unknown)).toMatchObject({ code: "hive_not_found", param: "model", message: expect.stringContaining("'no-such-hive'") });

    expect((await call("POST", "/v1/hives", { body: { name: "pin-away" } })).status).toBe(201);
    const away = await chat("pin-model@pin-away");
    expect(away.status).toBe(503);
    expect(away.headers.get("retry-after")).not.toBeNull();
    expect(await errorOf(away)).toMatchObject({ code: "hive_not_connected", message: expect.stringContaining("'pin-away'") });
  });

  it("shows a pinned model's state on that hive alone, and names the hives that have it when the pin misses", async () => {
    await hiveServing("view-loaded", "view-model");
    const catalogOnly = await TestHive.connect("view-catalog", await TestHive.register("view-catalog"));
    const model: CatalogModel = { source: "file:/models/view-model.gguf", name: "view-model", sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB };
    catalogOnly.send({ ...helloFrame(), models: [model] });
    await catalogOnly.next("welcome");
    const get = async (id: string) => call("GET", `/v1/models/${encodeURIComponent(id)}`);
    await eventually(async () => ((await (await get("view-model")).json()) as { hives: string[] }).hives.length === 2);

    expect(await (await get("view-model")).json()).toMatchObject({ id: "view-model", state: "loaded", hives: ["view-catalog", "view-loaded"] });
    expect(await (await get("view-model@view-loaded")).json()).toMatchObject({ id: "view-model@view-loaded", state: "loaded", hives: ["view-loaded"] });
    expect(await (await get("view-model@view-catalog")).json()).toMatchObject({ id: "view-model@view-catalog", state: "loadable", estimated_wait_seconds: 3, hives: ["view-catalog"] });

    const elsewhere = await get("view-model@pin-hive");
    expect(elsewhere.status).toBe(404);
    expect(await errorOf(elsewhere)).toMatchObject({ code: "model_not_found", param: "model", message: "The model 'view-model' is not on hive 'pin-hive': it is on 'view-catalog', 'view-loaded'." });
    // As a request pinned there is refused: a hive never registered, and one away.
    expect(await errorOf(await get("view-model@no-such-hive"))).toMatchObject({ code: "hive_not_found" });
    expect((await call("POST", "/v1/hives", { body: { name: "view-away" } })).status).toBe(201);
    const away = await get("view-model@view-away");
    expect(away.status).toBe(503);
    expect(away.headers.get("retry-after")).not.toBeNull();
    expect(await errorOf(away)).toMatchObject({ code: "hive_not_connected" });
    // An alias pinned to a hive is its target there.
    expect((await call("PUT", "/v1/models/view-alias/alias", { body: { model: "view-model" } })).status).toBeLessThan(300);
    expect(await (await get("view-alias@view-loaded")).json()).toMatchObject({ id: "view-alias@view-loaded", alias_for: "view-model", state: "loaded", hives: ["view-loaded"] });
    const nowhere = await get("no-model@view-loaded");
    expect(nowhere.status).toBe(404);
    expect(await errorOf(nowhere)).toMatchObject({ code: "model_not_found", message: expect.stringContaining("'no-model@view-loaded' does not exist") });
  });

  it("starts a worker on the pinned hive when none runs there, though another hive serves the model", async () => {
    await hiveServing("spawn-busy", "spawn-model");
    const idle = await TestHive.connect("spawn-idle", await TestHive.register("spawn-idle"));
    idle.send({ ...helloFrame(), models: [{ source: "file:/models/spawn-model.gguf", name: "spawn-model", sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }] });
    await idle.next("welcome");
    await eventually(async () => ((await (await call("GET", "/v1/models/spawn-model")).json()) as { hives: string[] }).hives.includes("spawn-idle"));

    const answer = chat("spawn-model@spawn-idle");
    const start = await idle.next("job_start");
    expect(start.operation).toMatchObject({ operation: "worker_spawn", model: "spawn-model" });
    if (start.operation.operation !== "worker_spawn") throw new Error("expected a worker_spawn");
    sendJobEvent(idle, start.jobId, { type: "data", payload: { worker_id: start.operation.workerId, pid: 4242, port: 40001 } });
    sendJobEvent(idle, start.jobId, { type: "done" });
    keepBeating(idle, start.operation.workerId, "spawn-model");
    const request = await idle.next("request");
    idle.respond(request.requestId, 200, "{}");
    expect((await answer).status).toBe(200);

    // A hive without the model in its catalog will not get it by waiting: 404, no Retry-After.
    await TestHive.greeted("spawn-empty");
    const missing = await chat("spawn-model@spawn-empty");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("retry-after")).toBeNull();
    expect(await errorOf(missing)).toMatchObject({ code: "model_not_found", param: "model", message: expect.stringContaining("hive 'spawn-empty'") });
  });
});
