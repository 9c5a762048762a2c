// Where the scheduler starts the worker a failed-over request waits for: not on the hive whose
// worker just went silent (a frozen hive keeps its socket and catalog until its own silence times
// out), while another hive can load the model; and, when a spawn fails, on another hive rather
// than refusing the model everywhere. Driven through the live worker table, as the Registry
// drives it with what its HiveSessions report.
import { describe, expect, it } from "vitest";
import { parseQueenConfig } from "../../queen/config.js";
import { WorkerTable } from "../../queen/registry/worker-table.js";
import type { HiveFacts } from "../../queen/scheduling/hive-facts.js";
import { Scheduler } from "../../queen/scheduling/scheduler.js";
import type { SpawnPlan } from "../../queen/scheduling/spawn-planner.js";
import type { JobEnd, SpawnerJobs } from "../../queen/scheduling/spawner-jobs.js";
import { waitUntil } from "../../shared/wait-until.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";
import { TEST_DEVICES } from "../support/test-devices.js";

const GIB = 1024 ** 3;
const MODEL = "rbee-tiny";

/** Three idle hives alike, each with the model in its catalog: only their names tell them apart. */
function hives(): HiveFacts[] {
  const models = [{ source: "file:/m/tiny.gguf", name: MODEL, sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB }];
  return ["hive-b", "hive-c", "local"].map((hiveName) => ({ hiveName, devices: TEST_DEVICES, models, reportedAtMs: Date.now() }));
}

function schedulerWith(endSpawn: (plan: SpawnPlan) => Promise<JobEnd>) {
  const table = new WorkerTable();
  const spawned: string[] = [];
  const plans = new Map<string, SpawnPlan>();
  const jobs: SpawnerJobs = {
    spawn: async (plan, workerId) => {
      spawned.push(plan.hiveName);
      plans.set(`job_${workerId}`, plan);
      return `job_${workerId}`;
    },
    ended: async (jobId) => {
      const plan = plans.get(jobId);
      return plan ? endSpawn(plan) : { ok: false, code: "unknown_job", message: jobId };
    },
    stop: async () => {},
  };
  const scheduler = new Scheduler({
    env: {} as Env,
    config: parseQueenConfig({}),
    table,
    isHiveOnline: () => true,
    hives,
    knowsModel: () => true,
    pidOf: () => 4242,
    onIdleCheckDue: () => {},
    jobs,
  });
  table.upsert({ hiveName: "hive-b", heartbeat: fakeHeartbeat({ workerId: "wrk_b", model: MODEL }), lastSeenAtMs: Date.now() });
  return { scheduler, table, spawned };
}

const never = () => new Promise<JobEnd>(() => {});

function failover(scheduler: Scheduler, requestId: string) {
  return scheduler.acquire({ requestId, model: MODEL, keyId: "key", deadlineMs: Date.now() + 30_000, excludeWorkerIds: ["wrk_b"] });
}

describe("the replacement for a worker that went silent", () => {
  it("is started on another hive than the silent worker's, though that hive still looks idle", async () => {
    const { scheduler, table, spawned } = schedulerWith(never);
    table.remove("wrk_b", "heartbeats_missed");
    const lease = failover(scheduler, "req_silent");
    await waitUntil(() => spawned.length > 0, 2_000, "a spawn");
    expect(spawned).toEqual(["hive-c"]);
    scheduler.abandon("req_silent");
    expect(await lease).toMatchObject({ ok: false, code: "client_gone" });
  });

  it("goes elsewhere too when the failover asks before the worker's silence is reported", async () => {
    const { scheduler, spawned } = schedulerWith(never);
    // The hive's session abandons the relay before it reports the worker gone.
    const lease = failover(scheduler, "req_race");
    await waitUntil(() => spawned.length > 0, 2_000, "a spawn");
    expect(spawned).toEqual(["hive-c"]);
    scheduler.abandon("req_race");
    expect(await lease).toMatchObject({ ok: false, code: "client_gone" });
  });

  it("is started on yet another hive when its spawn fails, not refused everywhere", async () => {
    // hive-c cannot load it; local would.
    const { scheduler, table, spawned } = schedulerWith(async (plan) => (plan.hiveName === "hive-c" ? { ok: false, code: "model_load_failed", message: "the worker could not load the model" } : never()));
    table.remove("wrk_b", "heartbeats_missed");
    const lease = failover(scheduler, "req_spawn_failed");
    await waitUntil(() => spawned.length >= 2, 2_000, "a second spawn");
    expect(spawned).toEqual(["hive-c", "local"]);
    const settled = await Promise.race([lease, new Promise<"waiting">((resolve) => setTimeout(() => resolve("waiting"), 50))]);
    expect(settled, "the request waits for local's worker").toBe("waiting");
    scheduler.abandon("req_spawn_failed");
    expect(await lease).toMatchObject({ ok: false, code: "client_gone" });
  });
});
