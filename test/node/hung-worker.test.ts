// A hung worker for real: queen (workerd) → hive process → a worker process that is SIGSTOPped,
// as a worker stuck in a GPU driver call would be: its heartbeats stop while its hive stays
// connected. The queen drops it after three missed heartbeats; one heard again before
// WEDGED_WORKER_STOP_SECONDS is left alone, and one still silent then is stopped by a worker_delete
// job (SIGTERM with SIGCONT, so a stopped process drains at once), freeing what it holds. A hive
// that froze as a whole (its socket silent too) comes back with its workers left alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "./job-stream.js";
import { isAlive, type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

const HIVE = "hung-hive";
const HEARTBEAT_INTERVAL_MS = 500;
const STOP_AFTER_SECONDS = 6;

interface JobRow {
  id: string;
  operation: string;
  status: string;
}

describe("a hung worker end to end", () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startLocalCloud({
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      hiveName: HIVE,
      queenVars: { WEDGED_WORKER_STOP_SECONDS: String(STOP_AFTER_SECONDS) },
    });
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  const listed = async (workerId: string) => (await call(cloud, "GET", `/v1/workers/${workerId}`)).status === 200;
  const deleteJobs = async () => ((await call(cloud, "GET", "/v1/jobs")).json as { data: JobRow[] }).data.filter((job) => job.operation === "worker_delete");

  it("leaves a worker that was only slow, and stops one still silent after WEDGED_WORKER_STOP_SECONDS", async () => {
    const worker = await cloud.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);

    // Slow: silent long enough to be dropped, then heard again well before the stop.
    process.kill(worker.pid, "SIGSTOP");
    try {
      await waitUntil(async () => !(await listed(worker.id)), 10_000, "the silent worker to be dropped");
    } finally {
      process.kill(worker.pid, "SIGCONT");
    }
    await waitUntil(() => listed(worker.id), 10_000, "the worker to be listed again once it heartbeats");
    await new Promise((resolve) => setTimeout(resolve, (STOP_AFTER_SECONDS + 2) * 1000));
    expect(isAlive(worker.pid)).toBe(true);
    expect(await deleteJobs()).toEqual([]);

    // Hung: silent for good.
    process.kill(worker.pid, "SIGSTOP");
    await waitUntil(() => !isAlive(worker.pid), (STOP_AFTER_SECONDS + 20) * 1000, "the hung worker to be stopped");
    const [job] = await deleteJobs();
    expect(job).toBeDefined();
    await waitUntil(async () => (await deleteJobs())[0]?.status === "done", 10_000, "the worker_delete job to end");
    expect(await listed(worker.id)).toBe(false);
    expect(cloud.hiveLog.some((line) => line.includes(`job ${job?.id}`))).toBe(true);
  }, 90_000);

  it("leaves the workers of a hive that froze as a whole: the hive's silence explains theirs", async () => {
    const worker = await cloud.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
    const deletesBefore = (await deleteJobs()).length;
    const hivePid = cloud.hive.pid;
    process.kill(hivePid, "SIGSTOP");
    try {
      await waitUntil(async () => !(await listed(worker.id)), 10_000, "the frozen hive's worker to be dropped");
      // Frozen past the stop period: a hung worker would be due by now.
      await new Promise((resolve) => setTimeout(resolve, (STOP_AFTER_SECONDS + 2) * 1000));
    } finally {
      process.kill(hivePid, "SIGCONT");
    }
    await waitUntil(() => listed(worker.id), 20_000, "the worker to be listed again once its hive is back");
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(isAlive(worker.pid)).toBe(true);
    expect(await deleteJobs()).toHaveLength(deletesBefore);
  }, 90_000);
});
