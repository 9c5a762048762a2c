// Fault drill (slow, ~40 s: two workers to load; `npm run drills`): a hive with two workers is
// SIGKILLed and started again. Its workers are detached, so they keep running; the new hive
// finds them on its channel socket, their heartbeats reach the queen again under the same ids,
// one registry entry each, and requests are served through the restarted hive.
// (test/node/hive-restart.test.ts covers one worker and a clean SIGTERM.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectChatAnswered, isAlive, type LocalCloud, processesMentioning, startLocalCloud, TINY_MODEL, waitUntil } from "../node/local-cloud.js";

const HEARTBEAT_INTERVAL_MS = 500;
const HIVE = "drill-hive-restart";
const WORKERS = 2;

describe("drill: a hive killed and restarted", () => {
  let cloud: LocalCloud;
  const workers: { id: string; pid: number }[] = [];

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, hiveName: HIVE, stopWorkersOnExit: false });
    for (let i = 0; i < WORKERS; i++) {
      workers.push(await cloud.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: cloud.modelSource }));
    }
    for (const worker of workers) await cloud.client.waitForWorkerReady(worker.id, 60_000);
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it("keeps its workers running and serving, seen again under the same ids, once each", async () => {
    const workerProcesses = () => processesMentioning(`${cloud.cacheDir}/workers/`);
    expect((await workerProcesses()).sort()).toEqual(workers.map((worker) => worker.pid).sort());
    const killedAtMs = Date.now();
    await cloud.restartHive("SIGKILL");
    const welcomedMs = Date.now() - killedAtMs;

    for (const worker of workers) expect(isAlive(worker.pid), `worker ${worker.id} outlives its hive`).toBe(true);
    await waitUntil(
      async () => {
        const ready = (await cloud.client.listWorkers()).filter((listed) => listed.state === "ready");
        return workers.every((worker) => ready.some((listed) => listed.id === worker.id));
      },
      30_000,
      "every worker to be seen again",
    );
    const seenAgainMs = Date.now() - killedAtMs;

    const listed = await cloud.client.listWorkers();
    expect(listed.map((worker) => worker.id).sort()).toEqual(workers.map((worker) => worker.id).sort());
    // The same processes, not new ones: the restarted hive spawned nothing.
    expect((await workerProcesses()).sort()).toEqual(workers.map((worker) => worker.pid).sort());
    for (let i = 0; i < WORKERS; i++) await expectChatAnswered(cloud);
    console.log(
      `[hive-restart] hive SIGKILLed and restarted: welcomed again after ${welcomedMs} ms; ${WORKERS} workers ` +
        `(same pids, ${listed.length} registry entries) ready again after ${seenAgainMs} ms ` +
        `(${(seenAgainMs / HEARTBEAT_INTERVAL_MS).toFixed(1)} heartbeat intervals); ${WORKERS} requests served`,
    );
  });
});
