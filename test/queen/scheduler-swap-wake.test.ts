// The scheduler plans a waiting model again the moment a loaded worker's minimum residency ends:
// a request for model b on a device that holds one worker, taken by a worker of model a loaded
// a moment ago, waits (no ping-pong), and then gets its swap without any other event (no lease
// ending, no worker changing, no hive reporting) to wake it. The slow drill model-swap shows the
// same with real hives.
import { describe, expect, it } from "vitest";
import type { IdleRecord } from "../../queen/registry/idle-records.js";
import type { IdleMemory } from "../../queen/scheduling/scheduler.js";
import { waitUntil } from "../../shared/wait-until.js";
import { oneWorkerDevice } from "./one-worker-device.js";

describe("the scheduler's swap", () => {
  it("swaps in a waiting model once the loaded worker's minimum residency ends, with nothing else happening", async () => {
    const { scheduler, spawned, stopped } = oneWorkerDevice({ SWAP_MIN_RESIDENCY_SECONDS: "1" });

    const lease = scheduler.acquire({ requestId: "req_b", model: "b", keyId: "key", deadlineMs: Date.now() + 30_000 });
    expect(spawned, "a was loaded a moment ago: b waits rather than evict it").toEqual([]);
    await waitUntil(() => spawned.length > 0, 10_000, "b's worker to be spawned once a's residency ended");
    expect({ spawned, stopped }).toEqual({ spawned: ["b"], stopped: ["wrk_a"] });

    scheduler.abandon("req_b");
    expect(await lease).toMatchObject({ ok: false, code: "client_gone" });
  });

  it("counts a worker's residency from when it was first resident, not from the Registry's wake, so a swap after a quiet spell waits for nothing", async () => {
    // What an evicted Registry stored of worker a, resident for ten minutes already.
    const stored = new Map<string, IdleRecord>([["wrk_a", { lastActiveAtMs: Date.now() - 120_000, residentSinceMs: Date.now() - 600_000 }]]);
    const idle: IdleMemory = {
      take: (workerId) => stored.get(workerId),
      record: (workerId, record) => void stored.set(workerId, record),
      forget: (workerId) => void stored.delete(workerId),
    };
    const { scheduler, spawned, stopped } = oneWorkerDevice({ SWAP_MIN_RESIDENCY_SECONDS: "60" }, idle);
    const lease = scheduler.acquire({ requestId: "req_b", model: "b", keyId: "key", deadlineMs: Date.now() + 30_000 });
    expect(stopped, "a has been resident past the minimum: b takes its place at once").toEqual(["wrk_a"]);
    await waitUntil(() => spawned.length > 0, 2_000, "b's worker to be spawned");
    expect(spawned).toEqual(["b"]);
    scheduler.abandon("req_b");
    expect(await lease).toMatchObject({ ok: false, code: "client_gone" });
  });
});
