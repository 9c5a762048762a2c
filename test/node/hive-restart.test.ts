// Workers run detached from their hive: a hive that restarts (cleanly or after a crash) finds
// them again on its fixed channel socket, their heartbeats reach the queen again, and serving
// goes on from the same processes with their models still loaded. A hive started with
// --stop-workers-on-exit takes its workers down with it instead, and npm start stops those of a
// hive it gave up on (killed, it could not).
import { stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectChatAnswered, isAlive, type LocalCloud, processesMentioning, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

describe("workers outlive their hive", () => {
  let cloud: LocalCloud;
  let worker: { id: string; pid: number };

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 500, hiveName: "restart-hive", stopWorkersOnExit: false });
    worker = await cloud.client.spawnWorker({ hive: "restart-hive", model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it("runs the worker from the worker catalog with its output in a log file", async () => {
    const [pid] = await processesMentioning(`${cloud.cacheDir}/workers/`);
    expect(pid).toBe(worker.pid);
    expect((await stat(`${cloud.cacheDir}/logs/${worker.id}.log`)).size).toBeGreaterThan(0);
  });

  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(`re-attaches the running worker after the hive restarts (${signal})`, async () => {
      const welcomesBefore = cloud.hiveLog.filter((line) => line.includes("queen welcomed")).length;
      await cloud.restartHive(signal);
      expect(cloud.hiveLog.filter((line) => line.includes("queen welcomed")).length).toBe(welcomesBefore + 1);
      expect(isAlive(worker.pid)).toBe(true);
      // The old socket's close took the worker offline; its next heartbeat through the new hive brings it back.
      await cloud.client.waitForWorkerReady(worker.id, 15_000);
      const workers = await cloud.client.listWorkers();
      expect(workers.filter((listed) => listed.id === worker.id)).toHaveLength(1);
      await expectChatAnswered(cloud);
    });
  }

  it("refuses to start a second hive with the same name on this machine", async () => {
    // The channel socket is taken by the running hive: a second one must say so, not steal it.
    const { startHiveProcess } = await import("../../scripts/local-cloud/hive-process.js");
    const lines: string[] = [];
    const second = startHiveProcess({ queenUrl: cloud.queen.url, name: "restart-hive", token: "rbee_ht_unused", cacheDir: cloud.cacheDir, onLine: (line) => lines.push(line) });
    await waitUntil(() => second.exitCode !== null, 20_000, "the second hive to exit");
    expect(second.exitCode).toBe(1);
    expect(lines.join("\n")).toContain("another hive is already listening");
    expect(isAlive(worker.pid)).toBe(true);
  });

  // Not the hive's child, so no exit event: the hive sees its pid gone and tells the queen.
  it("tells the queen when a re-attached worker dies, and the queen drops it", async () => {
    process.kill(worker.pid, "SIGKILL");
    await waitUntil(() => hiveSaid(`worker ${worker.id} ended unannounced: worker process ${worker.pid} is gone`), 10_000, "the hive to notice the exit");
    expect(hiveSaid("; sent to the queen")).toBe(true);
    await waitUntil(async () => !(await cloud.client.listWorkers()).some((listed) => listed.id === worker.id), 10_000, "the queen to drop the worker");
  });

  it("tells the queen when a worker it spawned dies, with how it ended", async () => {
    const child = await cloud.client.spawnWorker({ hive: "restart-hive", model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(child.id, 60_000);
    process.kill(child.pid, "SIGKILL");
    await waitUntil(() => hiveSaid(`worker ${child.id} ended unannounced: worker exited (SIGKILL)`), 10_000, "the hive to report the exit");
    await waitUntil(async () => !(await cloud.client.listWorkers()).some((listed) => listed.id === child.id), 10_000, "the queen to drop the worker");
  });

  function hiveSaid(text: string): boolean {
    return cloud.hiveLog.some((line) => line.includes(text));
  }
});

describe("a hive started with --stop-workers-on-exit", () => {
  it("stops its workers when it stops", async () => {
    const cloud = await startLocalCloud({ heartbeatIntervalMs: 500, hiveName: "owning-hive", stopWorkersOnExit: true });
    try {
      const worker = await cloud.client.spawnWorker({ hive: "owning-hive", model: TINY_MODEL, source: cloud.modelSource });
      await cloud.client.waitForWorkerReady(worker.id, 60_000);
      await cloud.hive.stop();
      expect(isAlive(worker.pid)).toBe(false);
      expect(cloud.hiveLog.some((line) => line.includes(`stopped worker ${worker.id}`))).toBe(true);
    } finally {
      await cloud.stop();
    }
  });

  it("leaves them when killed outright, and npm start, giving up on it, stops them in its stead", async () => {
    const cloud = await startLocalCloud({ heartbeatIntervalMs: 500, hiveName: "crashing-hive", stopWorkersOnExit: true });
    try {
      const worker = await cloud.client.spawnWorker({ hive: "crashing-hive", model: TINY_MODEL, source: cloud.modelSource });
      await cloud.client.waitForWorkerReady(worker.id, 60_000);
      process.kill(cloud.hive.pid, "SIGKILL");
      await cloud.hive.exited;
      expect(isAlive(worker.pid)).toBe(true);
      const { stopWorkersOfHive } = await import("../../scripts/local-cloud/hive-process.js");
      const said: string[] = [];
      await stopWorkersOfHive({ queenUrl: cloud.queen.url, name: "crashing-hive", token: "rbee_ht_unused", cacheDir: cloud.cacheDir }, (line) => said.push(line));
      expect(isAlive(worker.pid)).toBe(false);
      expect(said).toEqual([`stopped worker ${worker.id} (pid ${worker.pid})`]);
    } finally {
      await cloud.stop();
    }
  });
});

// With a heartbeat interval far longer than the test may wait, only the worker's own haste brings
// it back: it takes the end of its connection to the channel for the hive's and beats again at
// once, and the new hive forwards what it heard before the queen's welcome with the welcome.
describe("a restarted hive's workers serve again at once, not a heartbeat interval later", () => {
  it("re-attaches an idle worker within seconds when the interval is a minute", async () => {
    const cloud = await startLocalCloud({ heartbeatIntervalMs: 60_000, hiveName: "quick-hive", stopWorkersOnExit: false });
    try {
      const worker = await cloud.client.spawnWorker({ hive: "quick-hive", model: TINY_MODEL, source: cloud.modelSource });
      await cloud.client.waitForWorkerReady(worker.id, 60_000);
      await cloud.restartHive("SIGKILL");
      await cloud.client.waitForWorkerReady(worker.id, 10_000);
      await expectChatAnswered(cloud);
      // The hive logs a relay after its answer has gone (its line costs the answer nothing): wait for it.
      await waitUntil(() => cloud.hiveLog.some((line) => line.includes(`relayed request`) && line.includes(`to worker ${worker.id}`)), 5_000, "the hive's line for the relay");
    } finally {
      await cloud.stop();
    }
  });
});
