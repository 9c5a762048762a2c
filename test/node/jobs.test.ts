// Jobs for real: queen (workerd) → hive process → worker processes. A worker_spawn job starts a
// real worker (building it again when another checkout built the one in the cache), DELETE
// /v1/workers/:id stops it, a PID that is not an rbee worker is refused, and hive_check describes
// this machine.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";
import { asIfBuiltByGoneCheckout, bundledText, nodeLlamaCppUrl } from "../support/gone-checkout-build.js";
import { postHeartbeat } from "../support/post-heartbeat.js";
import { REPO_ROOT } from "../support/running-worker.js";
import { call, jobEvents, narrationActions, runJob } from "./job-stream.js";
import { isAlive, type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

const HIVE = "jobs-hive";

describe("jobs end to end", () => {
  let cloud: LocalCloud;
  let worker: { worker_id: string; pid: number; port: number };

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: HIVE });
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it("streams a worker_spawn job's narration and ends done with the worker's pid and port", async () => {
    const { jobId, events } = await runJob(cloud, { operation: "worker_spawn", hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    const actions = narrationActions(events);
    // The model is linked into the catalog, this repository's worker is built, then it starts and loads.
    for (const step of ["fetch", "link", "model", "install", "spawn", "listening", "ready"]) expect(actions, step).toContain(step);
    expect(actions.indexOf("model")).toBeLessThan(actions.indexOf("spawn"));
    expect(actions.indexOf("spawn")).toBeLessThan(actions.indexOf("listening"));
    expect(actions.at(-1)).toBe("ready");
    // The pid and port come as soon as the worker listens; the job ends once the model is loaded.
    expect(events.findIndex((event) => event.type === "data")).toBeGreaterThan(events.findIndex((event) => event.type === "narration" && event.action === "listening"));
    expect(events.at(-1)?.type).toBe("done");
    expect(events.every((event) => event.job_id === jobId && event.hive === HIVE)).toBe(true);
    const data = events.find((event) => event.type === "data");
    if (data?.type !== "data") throw new Error("no data event");
    worker = data.payload as typeof worker;
    expect(worker).toEqual({ worker_id: expect.stringMatching(/^wrk_/), pid: expect.any(Number), port: expect.any(Number) });
    expect(isAlive(worker.pid)).toBe(true);
    await cloud.client.waitForWorkerReady(worker.worker_id, 60_000);
    expect((await call(cloud, "GET", `/v1/jobs/${jobId}`)).json).toMatchObject({ status: "done", operation: "worker_spawn" });
  });

  // Reads the hive channel URL from /proc: Linux only.
  it.skipIf(process.platform !== "linux")("refuses to signal a PID that is not one of the hive's workers, and leaves the process alone", async () => {
    // Make the registry believe the real worker's PID is this test process: pause the worker (its
    // own heartbeats stop) and post heartbeats in its name to the hive's local channel, which every
    // worker is told about on its command line. The queen accepts them: the id is one it issued.
    const args = (await readFile(`/proc/${worker.pid}/cmdline`, "utf8")).split("\0");
    const channel = args[args.indexOf("--hive-channel") + 1] ?? "";
    expect(channel).toMatch(/^unix:\//);
    const impostor = fakeHeartbeat({ workerId: worker.worker_id, model: TINY_MODEL, pid: process.pid, port: worker.port });
    const pidListed = async (pid: number) => ((await call(cloud, "GET", `/v1/workers/${worker.worker_id}`)).json as { pid?: number }).pid === pid;
    process.kill(worker.pid, "SIGSTOP");
    const posting = setInterval(() => void postHeartbeat(channel.slice("unix:".length), impostor).catch(() => {}), 200);
    let deleted;
    try {
      await waitUntil(() => pidListed(process.pid), 5000, "the impostor's pid to be listed");
      deleted = await call(cloud, "DELETE", `/v1/workers/${worker.worker_id}`);
    } finally {
      clearInterval(posting);
      process.kill(worker.pid, "SIGCONT");
    }
    await waitUntil(() => pidListed(worker.pid), 10_000, "the worker's own pid to be listed again");
    expect(deleted.status).toBe(202);
    const events = await jobEvents(cloud, (deleted.json as { stream_url: string }).stream_url);
    const end = events.at(-1);
    expect(end).toMatchObject({ type: "error", code: "not_an_rbee_worker", message: expect.stringContaining(`pid ${process.pid}`) });
    expect(narrationActions(events)).toEqual(["verify"]);
    expect(isAlive(process.pid)).toBe(true);
  });

  it("stops a real worker with DELETE /v1/workers/:id within the grace period, and the registry drops it", async () => {
    const deleted = await call(cloud, "DELETE", `/v1/workers/${worker.worker_id}`);
    expect(deleted.status).toBe(202);
    const events = await jobEvents(cloud, (deleted.json as { stream_url: string }).stream_url);
    expect(events.at(-1)?.type).toBe("done");
    expect(narrationActions(events)).toEqual(["verify", "sigterm", "exited"]);
    // forced: false says SIGTERM was enough, i.e. the worker exited within the grace period.
    expect(events.find((event) => event.type === "data")).toMatchObject({ payload: { worker_id: worker.worker_id, pid: worker.pid, forced: false } });
    expect(isAlive(worker.pid)).toBe(false);
    // Dropped at once, not after three missed heartbeats.
    expect((await call(cloud, "GET", `/v1/workers/${worker.worker_id}`)).status).toBe(404);
  });

  it("builds the worker again when another checkout of rbee built the one in the cache, and the spawn succeeds", async () => {
    // The cache (~/.cache/rbee by default) outlives a checkout: a clone deleted since built this one.
    const workers = join(cloud.cacheDir, "workers");
    const [built] = (await readdir(workers)).filter((name) => name.startsWith("cpu-llm-worker-rbee-"));
    if (built === undefined) throw new Error(`no cpu worker build in ${workers}`);
    const goneClone = join(cloud.cacheDir, "deleted-clone");
    await asIfBuiltByGoneCheckout(join(workers, built), goneClone);

    const { events } = await runJob(cloud, { operation: "worker_spawn", hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    const replace = events.find((event) => event.type === "narration" && event.action === "replace");
    expect(replace).toMatchObject({ message: expect.stringContaining(`again: it was built from another checkout of rbee (${join(goneClone, "worker", "main.ts")}, not ${join(REPO_ROOT, "worker", "main.ts")}), whose node-llama-cpp it loads`) });
    expect(narrationActions(events)).toContain("install");
    expect(narrationActions(events).at(-1)).toBe("ready");
    expect(events.at(-1)?.type).toBe("done");
    expect(await bundledText(join(workers, built))).not.toContain(nodeLlamaCppUrl(goneClone));
    const data = events.find((event) => event.type === "data");
    if (data?.type !== "data") throw new Error("no data event");
    const { worker_id: workerId } = data.payload as { worker_id: string };
    expect((await call(cloud, "DELETE", `/v1/workers/${workerId}`)).status).toBe(202);
  });

  it("cancels a worker_spawn job while the worker starts, killing that worker", async () => {
    const submitted = await call(cloud, "POST", "/v1/jobs", { operation: "worker_spawn", hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    const { job_id: jobId, stream_url: streamUrl } = submitted.json as { job_id: string; stream_url: string };
    // Cancel once the worker process exists, while it loads.
    await waitUntil(() => cloud.hiveLog.some((line) => line.includes(`job ${jobId}`) && line.includes("starting worker")), 30_000, "the worker to start");
    const cancelled = await call(cloud, "DELETE", `/v1/jobs/${jobId}`);
    expect(cancelled.status).toBe(202);
    const events = await jobEvents(cloud, streamUrl);
    expect(events.at(-1)?.type).toBe("cancelled");
    // The worker listens before it loads, so its pid and port may or may not have been reported yet.
    expect((await call(cloud, "GET", `/v1/jobs/${jobId}`)).json).toMatchObject({ status: "cancelled" });
    // The worker it had started is gone: the hive logs its exit.
    const spawnLine = cloud.hiveLog.find((line) => line.includes(`job ${jobId}`) && line.includes("starting worker"));
    const workerId = /starting worker (wrk_\w+)/.exec(spawnLine ?? "")?.[1];
    expect(workerId).toBeDefined();
    await waitUntil(() => cloud.hiveLog.some((line) => line.includes(`worker ${workerId}`) && line.includes("exited")), 10_000, "the worker to exit");
  });

  it("describes the hive's machine with hive_check", async () => {
    const { events } = await runJob(cloud, { operation: "hive_check", hive: HIVE });
    expect(narrationActions(events)).toEqual(["node", "os", "cpu", "memory", "gpu"]);
    expect(events.at(-1)?.type).toBe("done");
    const data = events.find((event) => event.type === "data");
    expect(data).toMatchObject({
      payload: {
        node: process.version,
        devices: {
          os: process.platform,
          arch: process.arch,
          cpu: { cores: expect.any(Number) },
          ram_total_bytes: expect.any(Number),
          ram_free_bytes: expect.any(Number),
          gpus: expect.any(Array),
          worker_types: expect.arrayContaining(["cpu"]),
        },
      },
    });
  });
});

