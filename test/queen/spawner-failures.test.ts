// A spawn that fails on one hive: the model's next spawn goes to another hive that can load it,
// the failed hive is left out for the failure memory, and only where no other hive can load the
// model are its requests refused with the failure.
import { describe, expect, it } from "vitest";
import type { HiveFacts } from "../../queen/scheduling/hive-facts.js";
import type { SpawnPlan } from "../../queen/scheduling/spawn-planner.js";
import { Spawner } from "../../queen/scheduling/spawner.js";
import { type JobEnd, SPAWN_CANCELLED, SPAWN_CANCELLED_BY_ADMIN, type SpawnerJobs } from "../../queen/scheduling/spawner-jobs.js";
import { TEST_DEVICES } from "../support/test-devices.js";

const GIB = 1024 ** 3;

function hive(hiveName: string, source = "file:/m/tiny.gguf"): HiveFacts {
  return { hiveName, devices: { ...TEST_DEVICES, gpus: [], workerTypes: ["cpu"] }, models: [{ source, name: "tiny", sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }], reportedAtMs: 0 };
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

    expect(spawner.request("tiny")).toMatchObject({
      ok: false,
      code: "worker_spawn_failed",
      retryable: false,
      message: expect.stringContaining("hive hive-b could not start a worker for 'tiny'"),
      // When the failure is out of mind and a spawn may be tried again; a hive's failure may pass.
      retryAfterSeconds: 30,
      final: false,
    });
    now.ms += 12_500;
    expect(spawner.request("tiny")).toMatchObject({ code: "worker_spawn_failed", retryAfterSeconds: 18 });
    now.ms += 17_500;
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

  it("tries no other hive when the model's source is at fault, as every hive fetching it would fail the same way", async () => {
    const now = { ms: 1_000_000 };
    const { spawner, spawns, settled } = spawnerOn([hive("hive-b", "hf:org/tiny-GGUF"), hive("hive-c", "hf:org/tiny-GGUF")], now);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    spawns[0]?.end({ ok: false, code: "checksum_mismatch", message: "the file's SHA-256 is not the hub's" });
    await settledOnce(settled);
    // A hash unlike the hub's is most likely the hub's copy, but may pass (a proxy's): not final.
    const refused = { ok: false, code: "worker_spawn_failed", retryAfterSeconds: 30, final: false, message: expect.stringContaining("the file's SHA-256 is not the hub's (checksum_mismatch: its source fails the same on every hive") };
    expect(spawner.request("tiny")).toMatchObject(refused);
    expect(spawner.request("tiny", "hive-c")).toMatchObject(refused);
    expect(spawner.scaleOut("tiny")).toBeUndefined();
    expect(spawns).toHaveLength(1);
    // Once the failure memory passed, the model is tried again.
    now.ms += 30_000;
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    // The hub has no such file: the same, and for good as far as the SDKs are concerned.
    spawns[1]?.end({ ok: false, code: "model_not_found", message: "hf:org/tiny-GGUF: the repo has no file 'tiny.gguf'" });
    settled.length = 0;
    await settledOnce(settled);
    expect(spawner.request("tiny")).toMatchObject({ code: "worker_spawn_failed", final: true, message: expect.stringContaining("(model_not_found: its source fails the same on every hive") });
    expect(spawns).toHaveLength(2);
  });

  it("takes a GGUF cut short on one hive as that hive's failure: the next spawn goes to another", async () => {
    const now = { ms: 1_000_000 };
    const { spawner, spawns, settled } = spawnerOn([hive("hive-b", "hf:org/tiny-GGUF"), hive("hive-c", "hf:org/tiny-GGUF")], now);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    spawns[0]?.end({ ok: false, code: "invalid_gguf", message: "its tensors' data runs to byte 900 but the file has 600 bytes; it was cut off" });
    await settledOnce(settled);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    expect(spawns.map((spawn) => spawn.plan.hiveName)).toEqual(["hive-b", "hive-c"]);
  });

  it("takes the same error for a file: source as that hive's own: the next spawn goes to another hive", async () => {
    const now = { ms: 1_000_000 };
    const { spawner, spawns, settled } = spawnerOn([hive("hive-b"), hive("hive-c")], now);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    spawns[0]?.end({ ok: false, code: "model_not_found", message: "/m/tiny.gguf does not exist on this hive's machine" });
    await settledOnce(settled);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    expect(spawns.map((spawn) => spawn.plan.hiveName)).toEqual(["hive-b", "hive-c"]);
  });

  it("starts the model on no other hive when an admin cancelled its spawn, for the failure memory", async () => {
    const now = { ms: 1_000_000 };
    const { spawner, spawns, settled } = spawnerOn([hive("hive-b"), hive("hive-c")], now);
    expect(spawner.request("tiny")).toBe("spawning");
    await Promise.resolve();
    spawns[0]?.end({ ok: false, code: SPAWN_CANCELLED_BY_ADMIN, message: "the spawn job was cancelled by an admin: job job_1 was cancelled" });
    await settledOnce(settled);
    expect(spawner.request("tiny")).toMatchObject({ ok: false, code: "worker_spawn_failed", message: expect.stringContaining("cancelled by an admin: job job_1 was cancelled; no hive starts one on its own for a while") });
    expect(spawns).toHaveLength(1);
    now.ms += 30_000;
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
