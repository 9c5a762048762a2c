// A spawn that fails on one hive: the model's next spawn goes to another hive that can load it,
// the failed hive is left out for the failure memory, and only where no other hive can load the
// model are its requests refused with the failure.
import { describe, expect, it } from "vitest";
import type { HiveFacts } from "../../queen/scheduling/hive-facts.js";
import type { SpawnPlan } from "../../queen/scheduling/spawn-planner.js";
import { Spawner } from "../../queen/scheduling/spawner.js";
import { type JobEnd, SPAWN_CANCELLED, type SpawnerJobs } from "../../queen/scheduling/spawner-jobs.js";
import { TEST_DEVICES } from "../support/test-devices.js";

const GIB = 1024 ** 3;

function hive(hiveName: string): HiveFacts {
  return { hiveName, devices: { ...TEST_DEVICES, gpus: [], workerTypes: ["cpu"] }, models: [{ source: "file:/m/tiny.gguf", name: "tiny", sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }], reportedAtMs: 0 };
}

/** Jobs whose spawns end as the test says, each when it says. */
function scriptedJobs() {
  const spawns: Array<{ plan: SpawnPlan; end: (how: JobEnd) => void }> = [];
  const endings = new Map<string, Promise<JobEnd>>();
  const jobs: SpawnerJobs = {
    spawn: async (plan, workerId) => {
      let end: (how: JobEnd) => void = () => {};
      const ended = new Promise<JobEnd>((resolve) => (end = resolve));
      spawns.push({ plan, end });
      endings.set(`job_${workerId}`, ended);
      return `job_${workerId}`;
    },
    ended: (jobId) => endings.get(jobId) ?? Promise.resolve({ ok: false, code: "unknown_job", message: jobId }),
    stop: async () => {},
  };
  return { jobs, spawns };
}

function spawnerOn(hives: HiveFacts[], now: { ms: number }) {
  const { jobs, spawns } = scriptedJobs();
  const settled: string[] = [];
  const spawner = new Spawner(
    jobs,
    { hives: () => hives, workers: () => [], activity: () => undefined, queued: () => 0, policyOf: () => undefined, suspectHives: () => new Set() },
    { now: () => now.ms, log: () => {}, onSettled: (model) => settled.push(model) },
  );
  return { spawner, spawns, settled };
}

async function settledOnce(settled: string[]): Promise<void> {
  for (let turn = 0; turn < 20 && settled.length === 0; turn += 1) await new Promise((resolve) => setTimeout(resolve, 0));
  expect(settled).toEqual(["tiny"]);
}

describe("a spawn that failed on one hive", () => {
  it("starts the model on another hive that has it, and keeps it off the failed one for a while", async () => {
    const now = { ms: 1_000_000 };
    const { spawner, spawns, settled } = spawnerOn([hive("hive-b"), hive("hive-c")], now);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    expect(spawns.map((spawn) => spawn.plan.hiveName)).toEqual(["hive-b"]);
    spawns[0]?.end({ ok: false, code: "model_load_failed", message: "the worker could not load the model" });
    await settledOnce(settled);

    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    expect(spawns.map((spawn) => spawn.plan.hiveName)).toEqual(["hive-b", "hive-c"]);
    spawns[1]?.end({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 0));

    // Still within the failure memory: hive-c again, never hive-b.
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    expect(spawns[2]?.plan.hiveName).toBe("hive-c");
  });

  it("refuses with the failure where no other hive can load the model, and tries the hive again once the memory passed", async () => {
    const now = { ms: 1_000_000 };
    const { spawner, spawns, settled } = spawnerOn([hive("hive-b")], now);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    spawns[0]?.end({ ok: false, code: "model_load_failed", message: "the worker could not load the model" });
    await settledOnce(settled);

    expect(spawner.request("tiny")).toMatchObject({ ok: false, code: "worker_spawn_failed", retryable: false, message: expect.stringContaining("hive hive-b could not start a worker for 'tiny'") });
    now.ms += 30_000;
    expect(spawner.request("tiny")).toBe("spawning");
  });

  it("counts no failure for a job its hive lost (it was away, or restarted): the next spawn may go there again", async () => {
    const now = { ms: 1_000_000 };
    const { spawner, spawns, settled } = spawnerOn([hive("hive-b")], now);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    spawns[0]?.end({ ok: false, code: "job_lost", message: "hive 'hive-b' no longer runs this job" });
    await settledOnce(settled);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    expect(spawns.map((spawn) => spawn.plan.hiveName)).toEqual(["hive-b", "hive-b"]);
  });

  it("keeps the model off a hive that cancelled its spawn (it was stopping) until the hive says hello again", async () => {
    const now = { ms: 1_000_000 };
    const { spawner, spawns, settled } = spawnerOn([hive("hive-b")], now);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    spawns[0]?.end({ ok: false, code: SPAWN_CANCELLED, message: "the spawn job was cancelled: the hive is shutting down" });
    await settledOnce(settled);
    // Not planned onto the stopping hive again and again while its socket is still open.
    expect(spawner.request("tiny")).toMatchObject({ ok: false, code: "worker_spawn_failed", message: expect.stringContaining("the hive is shutting down") });
    // Another hive's hello changes nothing for it; its own (it was started again) does.
    spawner.hiveHello("hive-c");
    expect(spawner.request("tiny")).toMatchObject({ ok: false, code: "worker_spawn_failed" });
    spawner.hiveHello("hive-b");
    expect(spawner.request("tiny")).toBe("spawning");
  });

  it("keeps the model off a hive twice as long after each failure in a row there, and anew after a success", async () => {
    const now = { ms: 1_000_000 };
    const { spawner, spawns, settled } = spawnerOn([hive("hive-b")], now);
    const failOnce = async () => {
      expect(spawner.request("tiny")).toBe("spawning");
      await Promise.resolve();
      spawns.at(-1)?.end({ ok: false, code: "model_load_failed", message: "bad file" });
      settled.length = 0;
      for (let turn = 0; turn < 20 && settled.length === 0; turn += 1) await new Promise((resolve) => setTimeout(resolve, 0));
    };
    await failOnce();
    now.ms += 30_000;
    await failOnce();
    now.ms += 30_000;
    expect(spawner.request("tiny")).toMatchObject({ ok: false, code: "worker_spawn_failed" }); // 60 s after the second
    now.ms += 30_000;
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    spawns.at(-1)?.end({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 0));
    await failOnce();
    now.ms += 30_000;
    expect(spawner.request("tiny")).toBe("spawning"); // counted anew: 30 s again
  });
});
