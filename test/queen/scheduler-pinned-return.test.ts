// A request pinned to a hive (`model@hive`) whose socket just dropped waits for that hive's
// workers to come back, as a request for the model alone does, rather than being refused at once
// as a hive that is not connected; a model the hive had no worker of is refused as before.
import { describe, expect, it } from "vitest";
import { parseQueenConfig } from "../../queen/config.js";
import { WorkerTable } from "../../queen/registry/worker-table.js";
import type { LeaseOutcome } from "../../queen/scheduling/contracts.js";
import { Scheduler } from "../../queen/scheduling/scheduler.js";
import type { SpawnerJobs } from "../../queen/scheduling/spawner-jobs.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("a request pinned to a hive that is coming back", () => {
  it("waits for the hive's worker, and is placed on it once it beats again", async () => {
    const table = new WorkerTable();
    let online = true;
    const jobs: SpawnerJobs = { spawn: async () => "job_1", ended: () => new Promise(() => {}), stop: async () => {} };
    const scheduler = new Scheduler({
      env: {} as Env,
      config: parseQueenConfig({}),
      table,
      isHiveOnline: () => online,
      hives: () => [],
      knowsModel: () => true,
      pidOf: () => 4242,
      onIdleCheckDue: () => {},
      jobs,
    });
    const report = () => table.upsert({ hiveName: "h", heartbeat: fakeHeartbeat({ workerId: "wrk_a", model: "m" }), lastSeenAtMs: Date.now() });
    report();
    online = false;
    table.remove("wrk_a", "hive_offline");
    scheduler.hiveOffline("h");

    const settled: LeaseOutcome[] = [];
    void scheduler.acquire({ requestId: "req_pinned", model: "m", hive: "h", keyId: "key", deadlineMs: Date.now() + 30_000 }).then((outcome) => settled.push(outcome));
    const other = await scheduler.acquire({ requestId: "req_other", model: "n", hive: "h", keyId: "key", deadlineMs: Date.now() + 30_000 });
    expect(other).toMatchObject({ ok: false, code: "hive_not_connected" });
    await settle();
    expect(settled, "the pinned request waits for the hive").toEqual([]);

    online = true;
    report();
    await settle();
    expect(settled).toEqual([expect.objectContaining({ ok: true, workerId: "wrk_a" })]);
  });
});
