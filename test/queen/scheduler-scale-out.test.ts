// The scheduler scales a busy model out: once the requests waiting for it fill a round of its
// workers' slots, another worker starts on a hive that has the model and room beside what runs,
// within the policy's max_workers; never a second one on the machine that already runs it, nor
// one on another hive for requests pinned to a hive.
import { describe, expect, it } from "vitest";
import { parseQueenConfig } from "../../queen/config.js";
import { WorkerTable } from "../../queen/registry/worker-table.js";
import type { LeaseOutcome } from "../../queen/scheduling/contracts.js";
import type { HiveFacts } from "../../queen/scheduling/hive-facts.js";
import type { ModelPolicy } from "../../queen/scheduling/model-policy.js";
import { Scheduler } from "../../queen/scheduling/scheduler.js";
import type { SpawnerJobs } from "../../queen/scheduling/spawner-jobs.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";
import { TEST_DEVICES } from "../support/test-devices.js";

const GIB = 1024 ** 3;

/** The spawner submits its job after a turn of the event loop. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function cloud(hiveNames: string[], policy?: Partial<ModelPolicy>) {
  const table = new WorkerTable();
  const spawnedOn: string[] = [];
  const jobs: SpawnerJobs = {
    spawn: async (plan) => {
      spawnedOn.push(plan.hiveName);
      return `job_${spawnedOn.length}`;
    },
    ended: () => new Promise(() => {}), // the new worker's load is not part of these tests
    stop: async () => {},
  };
  const devices = { ...TEST_DEVICES, gpus: [], workerTypes: ["cpu" as const], ramTotalBytes: 16 * GIB, ramFreeBytes: 8 * GIB };
  const catalog = { source: "file:/m/m.gguf", name: "m", sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB };
  const hives: HiveFacts[] = hiveNames.map((hiveName) => ({ hiveName, devices, models: [catalog], reportedAtMs: Date.now() }));
  const fullPolicy: ModelPolicy | undefined = policy && { model: "m", minWorkers: 0, maxWorkers: null, preferredHives: [], workerTypes: null, keepAliveSeconds: null, source: null, updatedAtMs: 0, ...policy };
  const scheduler = new Scheduler({
    env: {} as Env,
    config: parseQueenConfig({}),
    table,
    isHiveOnline: () => true,
    hives: () => hives,
    knowsModel: (name: string) => name === "m",
    pidOf: () => 4242,
    onIdleCheckDue: () => {},
    jobs,
    policyOf: () => fullPolicy,
  });
  table.upsert({ hiveName: "first", heartbeat: fakeHeartbeat({ workerId: "wrk_first", model: "m", memoryRssBytes: GIB }), lastSeenAtMs: Date.now() });
  let sequence = 0;
  /** A request for "m", pinned to `hive` when given (`m@hive`). */
  const ask = (hive?: string): Promise<LeaseOutcome> => {
    sequence += 1;
    return scheduler.acquire({ requestId: `req_${sequence}`, model: "m", keyId: "key", deadlineMs: Date.now() + 30_000, ...(hive === undefined ? {} : { hive }) });
  };
  const abandonAll = () => {
    for (let each = 1; each <= sequence; each += 1) scheduler.abandon(`req_${each}`);
  };
  return { spawnedOn, ask, abandonAll };
}

describe("the scheduler scaling a busy model out", () => {
  it("starts one more worker on the other hive once requests wait behind the busy one, and one at a time", async () => {
    const { spawnedOn, ask, abandonAll } = cloud(["first", "second"]);
    expect(await ask()).toMatchObject({ ok: true, workerId: "wrk_first" });
    expect(spawnedOn).toEqual([]);
    void ask(); // waits: the one slot is taken
    await settle();
    expect(spawnedOn).toEqual(["second"]);
    void ask();
    void ask();
    await settle();
    expect(spawnedOn, "the spawn under way is enough for now").toEqual(["second"]);
    abandonAll();
  });

  it("starts none on another hive for requests pinned to the busy worker's hive: only a worker there could serve them", async () => {
    const { spawnedOn, ask, abandonAll } = cloud(["first", "second"]);
    expect(await ask("first")).toMatchObject({ ok: true, workerId: "wrk_first" });
    void ask("first");
    void ask("first");
    await settle();
    expect(spawnedOn).toEqual([]);
    void ask(); // one that any hive may serve: the crowd is now the model's
    await settle();
    expect(spawnedOn).toEqual(["second"]);
    abandonAll();
  });

  it("starts none on the machine that runs the model, nor past the policy's max_workers", async () => {
    const alone = cloud(["first"]);
    expect(await alone.ask()).toMatchObject({ ok: true });
    void alone.ask();
    void alone.ask();
    await settle();
    expect(alone.spawnedOn).toEqual([]);
    alone.abandonAll();

    const capped = cloud(["first", "second"], { maxWorkers: 1 });
    expect(await capped.ask()).toMatchObject({ ok: true });
    void capped.ask();
    await settle();
    expect(capped.spawnedOn).toEqual([]);
    capped.abandonAll();
  });
});
