// The scheduler plans a waiting model again the moment a loaded worker's minimum residency ends:
// a request for model b on a device that holds one worker, taken by a worker of model a loaded
// a moment ago, waits (no ping-pong), and then gets its swap without any other event (no lease
// ending, no worker changing, no hive reporting) to wake it. The slow drill model-swap shows the
// same with real hives.
import { describe, expect, it } from "vitest";
import { parseQueenConfig } from "../../queen/config.js";
import { WorkerTable } from "../../queen/registry/worker-table.js";
import type { LiveWorker } from "../../queen/scheduling/contracts.js";
import type { IdleRecord } from "../../queen/registry/idle-records.js";
import { type IdleMemory, Scheduler } from "../../queen/scheduling/scheduler.js";
import type { SpawnerJobs } from "../../queen/scheduling/spawner-jobs.js";
import { waitUntil } from "../../shared/wait-until.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";
import { TEST_DEVICES } from "../support/test-devices.js";

const GIB = 1024 ** 3;

/** A device that holds one worker: worker a of model a, loaded; b fits only in a's place. */
function oneWorkerDevice(minResidencySeconds: number, idle?: IdleMemory) {
  const table = new WorkerTable();
  const spawned: string[] = [];
  const stopped: string[] = [];
  const jobs: SpawnerJobs = {
    spawn: async (plan) => {
      spawned.push(plan.model);
      return "job_1";
    },
    ended: () => new Promise(() => {}), // the new worker's load is not part of these tests
    stop: async (worker: LiveWorker) => {
      stopped.push(worker.workerId);
    },
  };
  const catalog = (name: string) => ({ source: `file:/m/${name}.gguf`, name, sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB });
  // 0.5 GiB free beside worker a's 1 GiB.
  const devices = { ...TEST_DEVICES, gpus: [], workerTypes: ["cpu" as const], ramTotalBytes: 1.5 * GIB, ramFreeBytes: 0.5 * GIB };
  const scheduler = new Scheduler({
    env: {} as Env,
    config: parseQueenConfig({ SWAP_MIN_RESIDENCY_SECONDS: String(minResidencySeconds) }),
    table,
    isHiveOnline: () => true,
    hives: () => [{ hiveName: "h", devices, models: [catalog("a"), catalog("b")], reportedAtMs: Date.now() }],
    knowsModel: () => true,
    pidOf: () => 4242,
    onIdleCheckDue: () => {},
    jobs,
    ...(idle === undefined ? {} : { idle }),
  });
  table.upsert({ hiveName: "h", heartbeat: fakeHeartbeat({ workerId: "wrk_a", model: "a", memoryRssBytes: GIB }), lastSeenAtMs: Date.now() });
  return { scheduler, spawned, stopped };
}

describe("the scheduler's swap", () => {
  it("swaps in a waiting model once the loaded worker's minimum residency ends, with nothing else happening", async () => {
    const { scheduler, spawned, stopped } = oneWorkerDevice(1);

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
    const { scheduler, spawned, stopped } = oneWorkerDevice(60, idle);
    const lease = scheduler.acquire({ requestId: "req_b", model: "b", keyId: "key", deadlineMs: Date.now() + 30_000 });
    expect(stopped, "a has been resident past the minimum: b takes its place at once").toEqual(["wrk_a"]);
    await waitUntil(() => spawned.length > 0, 2_000, "b's worker to be spawned");
    expect(spawned).toEqual(["b"]);
    scheduler.abandon("req_b");
    expect(await lease).toMatchObject({ ok: false, code: "client_gone" });
  });
});
