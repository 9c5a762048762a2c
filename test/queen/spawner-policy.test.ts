// The spawner under a model's policy: max_workers caps auto-spawn (the requests wait for the
// workers the model has), and a model with room under its cap spawns as before.
import { describe, expect, it } from "vitest";
import type { LiveWorker } from "../../queen/scheduling/contracts.js";
import type { HiveFacts } from "../../queen/scheduling/hive-facts.js";
import type { ModelPolicy } from "../../queen/scheduling/model-policy.js";
import { Spawner } from "../../queen/scheduling/spawner.js";
import type { SpawnerJobs } from "../../queen/scheduling/spawner-jobs.js";

const GIB = 1024 ** 3;

const facts: HiveFacts = {
  hiveName: "h",
  devices: { gpus: [], ramTotalBytes: 64 * GIB, ramFreeBytes: 32 * GIB, cpu: { model: "cpu", cores: 8 }, os: "linux", osRelease: "6", arch: "x64", workerTypes: ["cpu"] },
  models: [{ source: "file:/m/m.gguf", name: "m", sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }],
  reportedAtMs: 0,
};

const live: LiveWorker = { workerId: "wrk_1", hiveName: "h", model: "m", state: "ready", port: 1, slotsTotal: 1, device: "cpu", tokensPerSecond: 0, memoryRssBytes: GIB, memoryVramBytes: null, lastSeenAtMs: 0 };

/** Jobs that never end: a spawn stays in flight, as a slow load would. */
function pendingJobs(spawned: string[]): SpawnerJobs {
  return {
    spawn: async (_plan, workerId) => {
      spawned.push(workerId);
      return `job_${workerId}`;
    },
    ended: () => new Promise(() => {}),
    stop: async () => {},
  };
}

function spawnerWith(policy: ModelPolicy, workers: LiveWorker[], spawned: string[]): Spawner {
  return new Spawner(pendingJobs(spawned), { hives: () => [facts], workers: () => workers, activity: () => undefined, queued: () => 0, policyOf: () => policy, suspectHives: () => new Set() }, { log: () => {} });
}

describe("the spawner under a model's policy", () => {
  const policy: ModelPolicy = { model: "m", minWorkers: 0, maxWorkers: 1, preferredHives: [], workerTypes: null, keepAliveSeconds: null, source: null, updatedAtMs: 0 };

  it("starts no worker beyond max_workers: the requests wait for the one there is", () => {
    const spawned: string[] = [];
    const answer = spawnerWith(policy, [live], spawned).request("m");
    expect(answer).toMatchObject({ ok: false, code: "max_workers_reached", retryable: true });
    expect(spawned).toEqual([]);
  });

  it("spawns under the cap", async () => {
    const spawned: string[] = [];
    const spawner = spawnerWith({ ...policy, maxWorkers: 2 }, [live], spawned);
    expect(spawner.request("m")).toBe("spawning");
    await Promise.resolve();
    expect(spawned).toHaveLength(1);
  });
});
