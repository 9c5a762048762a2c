// A worker's keep-alive runs on across a restart of its hive or of the queen: one idle since
// before either is unloaded once its keep-alive has passed, not kept loaded for good. The
// keep-alive is well past the time a local Registry stays in memory with nothing to do: each
// eviction used to start the clock of a worker back from a restart again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectChatAnswered, isAlive, type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

const KEEP_ALIVE_SECONDS = 30;

describe("idle unload across restarts", () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 500, hiveName: "idle-restart-hive", stopWorkersOnExit: false, queenVars: { KEEP_ALIVE_SECONDS: String(KEEP_ALIVE_SECONDS) } });
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  for (const restart of ["hive", "queen"] as const) {
    it(`unloads a worker idle since before its ${restart} restarted`, async () => {
      const worker = await cloud.client.spawnWorker({ hive: "idle-restart-hive", model: TINY_MODEL, source: cloud.modelSource });
      await cloud.client.waitForWorkerReady(worker.id, 60_000);
      await expectChatAnswered(cloud);
      const usedAtMs = Date.now();
      if (restart === "hive") await cloud.restartHive("SIGKILL");
      else await cloud.restartQueen();
      // Back, loaded, through the new hive or in the new queen's registry.
      await cloud.client.waitForWorkerReady(worker.id, 30_000);
      await waitUntil(() => !isAlive(worker.pid), 75_000, `worker ${worker.id} (pid ${worker.pid}) to be unloaded`);
      expect(Date.now() - usedAtMs).toBeGreaterThanOrEqual(KEEP_ALIVE_SECONDS * 1000);
      expect((await cloud.client.listWorkers()).some((listed) => listed.id === worker.id)).toBe(false);
    }, 180_000);
  }
});
