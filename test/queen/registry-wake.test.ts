import { abortAllDurableObjects, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../queen/registry/stub.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";

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
    expect((await after.place("wake-model")).ok).toBe(true);
  });

  it("never places a worker of a hive that went offline", async () => {
    const registry = registryStub(env);
    const worker = { heartbeat: fakeHeartbeat({ workerId: "wrk_offline1", model: "offline-model" }), lastSeenAtMs: Date.now() };
    await registry.report("offline-hive", { snapshot: true, upserts: [worker], gone: [] });
    expect((await registry.place("offline-model")).ok).toBe(true);
    await registry.hiveOffline("offline-hive");
    expect(await registry.report("offline-hive", { snapshot: false, upserts: [worker], gone: [] })).toEqual({ ok: false, code: "snapshot_needed" });
    expect(await registry.place("offline-model")).toMatchObject({ ok: false, code: "no_worker_available" });
  });
});
