// A Scheduler over one CPU device that holds one worker of two models' size, with worker a of
// model a loaded on it and model b fitting only in its place: the swap tests' fleet. Its jobs are
// recorded, not run (a spawned worker's load is not part of these tests).
import { parseQueenConfig, type QueenVarsInput } from "../../queen/config.js";
import { WorkerTable } from "../../queen/registry/worker-table.js";
import type { LiveWorker } from "../../queen/scheduling/contracts.js";
import { type IdleMemory, Scheduler } from "../../queen/scheduling/scheduler.js";
import type { SpawnerJobs } from "../../queen/scheduling/spawner-jobs.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";
import { TEST_DEVICES } from "../support/test-devices.js";

const GIB = 1024 ** 3;

export function oneWorkerDevice(vars: QueenVarsInput, idle?: IdleMemory) {
  const table = new WorkerTable();
  const spawned: string[] = [];
  const stopped: string[] = [];
  const jobs: SpawnerJobs = {
    spawn: async (plan) => {
      spawned.push(plan.model);
      return "job_1";
    },
    ended: () => new Promise(() => {}),
    stop: async (worker: LiveWorker) => {
      stopped.push(worker.workerId);
    },
  };
  const catalog = (name: string) => ({ source: `file:/m/${name}.gguf`, name, sizeBytes: GIB, memoryBytes: GIB, vramBytes: GIB });
  // 0.5 GiB free beside worker a's 1 GiB.
  const devices = { ...TEST_DEVICES, gpus: [], workerTypes: ["cpu" as const], ramTotalBytes: 1.5 * GIB, ramFreeBytes: 0.5 * GIB };
  const scheduler = new Scheduler({
    env: {} as Env,
    config: parseQueenConfig(vars),
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
  const ask = (requestId: string, model: string) => scheduler.acquire({ requestId, model, keyId: "key", deadlineMs: Date.now() + 30_000 });
  return { scheduler, spawned, stopped, ask };
}
