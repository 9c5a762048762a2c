import { abortAllDurableObjects, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../queen/registry/stub.js";

const heartbeat = {
  workerId: "wrk_wake1",
  model: "wake-model",
  state: "ready" as const,
  pid: 4242,
  port: 40001,
  slotsTotal: 1,
  slotsBusy: 0,
  queueLength: 0,
  device: "cpu" as const,
  memoryRssBytes: 1,
  memoryVramBytes: null,
  tokensPerSecond: 0,
};

describe("registry after eviction", () => {
  it("rebuilds its workers from storage when a new instance wakes up", async () => {
    const before = registryStub(env);
    expect(await before.heartbeat("wake-hive", heartbeat)).toEqual({ accepted: true });
    expect((await before.listModels()).map((model) => model.id)).toContain("wake-model");

    // Throws away every Durable Object instance and its memory, as an eviction would; storage stays.
    await abortAllDurableObjects();

    const after = registryStub(env);
    expect((await after.listModels()).map((model) => model.id)).toContain("wake-model");
    expect((await after.listWorkers()).find((worker) => worker.id === "wrk_wake1")).toMatchObject({ hive: "wake-hive", state: "ready" });
  });
});
