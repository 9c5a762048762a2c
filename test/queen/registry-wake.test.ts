import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RECORD_AHEAD_MS } from "../../queen/registry/idle-records.js";
import { registryStub } from "../../queen/registry/stub.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";
import { call } from "./admin-api.js";
import { auth, eventually, helloFrame, modelState, TEST_DEVICES, TestHive } from "./hive-socket.js";
import { hiveServing, keepBeating, spawnWorker } from "./job-client.js";

/** A lease for one request of `model`, given up after `waitMs` (ok: false) if no worker can take it. */
async function lease(model: string, waitMs = 2000) {
  const registry = registryStub(env);
  const outcome = await registry.acquire({ requestId: crypto.randomUUID(), model, keyId: "key_wake", deadlineMs: Date.now() + waitMs });
  if (outcome.ok) await registry.release(outcome.leaseId, "ok");
  return outcome;
}

const report = { heartbeat: fakeHeartbeat({ workerId: "wrk_wake1", model: "wake-model", port: 40001 }), lastSeenAtMs: Date.now() };

describe("registry after eviction", () => {
  it("holds its table in memory only, and asks a hive it holds nothing of for a snapshot", async () => {
    const before = registryStub(env);
    expect(await before.report("wake-hive", { snapshot: false, upserts: [report], gone: [] })).toEqual({ ok: false, code: "snapshot_needed" });
    expect(await before.report("wake-hive", { snapshot: true, upserts: [report], gone: [] })).toEqual({ ok: true });
    expect((await before.listWorkers()).find((worker) => worker.id === "wrk_wake1")).toMatchObject({ hive: "wake-hive", state: "ready" });

    // Throws away every Durable Object instance and its memory, as an eviction would.
    await abortAllDurableObjects();

    const after = registryStub(env);
    expect(await after.listWorkers()).toEqual([]);
    expect(await after.report("wake-hive", { snapshot: false, upserts: [report], gone: [] })).toEqual({ ok: false, code: "snapshot_needed" });
    expect(await after.report("wake-hive", { snapshot: true, upserts: [report], gone: [] })).toEqual({ ok: true });
    expect(await lease("wake-model")).toMatchObject({ ok: true, workerId: "wrk_wake1" });
  });

  it("lists the workers of connected hives in the first answer after an eviction", async () => {
    // An idle hive: its worker beats, but nothing changes, so nothing reaches the Registry.
    await hiveServing("idle-wake-hive", "idle-wake-model");
    const listed = async () => {
      const response = await SELF.fetch("https://queen/v1/workers?hive_id=idle-wake-hive", { headers: auth });
      return ((await response.json()) as { data: { model: string }[] }).data.map((worker) => worker.model);
    };
    expect(await listed()).toEqual(["idle-wake-model"]);

    // Evicts the Registry alone, as an idle queen's is, while the hive's socket and session stay.
    await runInDurableObject(registryStub(env), (_instance, state) => state.abort("evicted")).catch(() => {});

    expect(await listed()).toEqual(["idle-wake-model"]);
  });

  it("places the first request after an eviction on the worker of a connected hive", async () => {
    await hiveServing("first-wake-hive", "first-wake-model");
    expect(await lease("first-wake-model")).toMatchObject({ ok: true });
    await runInDurableObject(registryStub(env), (_instance, state) => state.abort("evicted")).catch(() => {});
    expect(await lease("first-wake-model")).toMatchObject({ ok: true });
  });

  it("unloads a worker idle past its keep-alive although the Registry was evicted meanwhile", async () => {
    const hive = await hiveServing("keep-alive-wake-hive", "keep-alive-wake-model");
    const registry = registryStub(env);
    const [worker] = await registry.listWorkers("keep-alive-wake-hive");
    const outcome = await registry.acquire({ requestId: crypto.randomUUID(), model: "keep-alive-wake-model", keyId: "key_wake", deadlineMs: Date.now() + 2000, keepAliveMs: 300 });
    if (!outcome.ok) throw new Error(`no lease: ${outcome.code}`);
    await registry.release(outcome.leaseId, "ok");

    await runInDurableObject(registryStub(env), (_instance, state) => state.abort("evicted")).catch(() => {});

    // The alarm set for the keep-alive wakes a new instance, which must still know when the worker
    // went idle (stored up to RECORD_AHEAD_MS late) and for how long it was asked to stay.
    const stopped = hive.next("job_start", RECORD_AHEAD_MS + 5000);
    await new Promise((resolve) => setTimeout(resolve, RECORD_AHEAD_MS + 400));
    await runDurableObjectAlarm(registryStub(env));
    expect((await stopped).operation).toMatchObject({ operation: "worker_delete", workerId: worker?.id });
  }, 15_000);

  it("drops the stored idleness of a worker that did not come back after a wake", async () => {
    const stored = (key: string) => runInDurableObject(registryStub(env), (_instance, state) => state.storage.get(key));
    await runInDurableObject(registryStub(env), (_instance, state) => state.storage.put("idle:wrk_ghost1", { lastActiveAtMs: Date.now() }));
    await runInDurableObject(registryStub(env), (_instance, state) => state.abort("evicted")).catch(() => {});
    await registryStub(env).stats();
    expect(await stored("idle:wrk_ghost1")).toBeUndefined();
  });

  it("starts no min_workers worker while the snapshot of the hive that runs one is still on its way", async () => {
    const model = "min-wake-model";
    // The hive that runs the policy's worker: its name sorts after the other's, so the wake's
    // recall, which asks the online hives in that order, most likely hears from it last.
    await hiveServing("min-wake-z", model);
    // A hive that could run the model too (its catalog has it), and serves another.
    const other = await TestHive.connect("min-wake-b", await TestHive.register("min-wake-b"));
    const catalog = [{ source: "file:/models/min-wake.gguf", name: model, sizeBytes: 1024 ** 2, memoryBytes: 1024 ** 2, vramBytes: 1024 ** 2 }];
    other.send({ ...helloFrame(), models: catalog });
    await other.next("welcome");
    const otherWorker = await spawnWorker(other, "min-wake-other", 40002);
    keepBeating(other, otherWorker, "min-wake-other");
    await eventually(async () => (await modelState("min-wake-other")) !== undefined);
    expect((await call("PUT", `/v1/models/${model}/policy`, { body: { min_workers: 1 } })).status).toBe(200);

    await runInDurableObject(registryStub(env), (_instance, state) => state.abort("evicted")).catch(() => {});
    // The other hive's minutely hive_status is what wakes the Registry.
    other.send({ type: "hive_status", devices: TEST_DEVICES, models: catalog });

    const listed = await (await SELF.fetch("https://queen/v1/workers?hive_id=min-wake-z", { headers: auth })).json();
    expect((listed as { data: { model: string }[] }).data.map((worker) => worker.model)).toEqual([model]);
    // Planned on a half-filled table, the policy would have had a second worker started here.
    await expect(other.next("job_start", 1500)).rejects.toThrow(/no "job_start" frame/);
  });

  it("holds a request after a queen restart for the workers of a hive that has not reconnected yet, and places it once they beat", async () => {
    const { hive: first, token } = await TestHive.greetedWithToken("restart-hive");
    const workerId = await spawnWorker(first, "restart-model");
    first.heartbeat(workerId, "restart-model");
    await eventually(async () => (await lease("restart-model")).ok);

    // A restart (a deploy, a local workerd that died): every object's memory goes, and the socket with it.
    await abortAllDurableObjects();
    // Before its hive is back the model is not refused as unknown: the request waits for the hive.
    expect(await lease("restart-model", 300)).toMatchObject({ ok: false, code: "queue_timeout" });

    const waiting = lease("restart-model", 10_000);
    const back = await TestHive.connect("restart-hive", token);
    back.send(helloFrame([], undefined, [workerId]));
    await back.next("welcome");
    back.heartbeat(workerId, "restart-model");
    expect(await waiting).toMatchObject({ ok: true, workerId });
  });

  it("never places a worker of a hive that went offline", async () => {
    const registry = registryStub(env);
    const worker = { heartbeat: fakeHeartbeat({ workerId: "wrk_offline1", model: "offline-model" }), lastSeenAtMs: Date.now() };
    await registry.report("offline-hive", { snapshot: true, upserts: [worker], gone: [] });
    expect((await lease("offline-model")).ok).toBe(true);
    await registry.hiveOffline("offline-hive");
    expect(await registry.report("offline-hive", { snapshot: false, upserts: [worker], gone: [] })).toEqual({ ok: false, code: "snapshot_needed" });
    // The request waits for the hive to come back (within its deadline), never placed meanwhile.
    expect(await lease("offline-model", 300)).toMatchObject({ ok: false, code: "queue_timeout" });
  });
});
