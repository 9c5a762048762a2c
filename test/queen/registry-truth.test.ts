// The registry tells the truth: only workers the queen issued to a hive through a spawn job are
// accepted, a hello that no longer lists a worker drops it at once, and a heartbeat that changed
// nothing never reaches the Registry.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { registryStub } from "../../queen/registry/stub.js";
import { auth, eventually, helloFrame, TestHive } from "./hive-socket.js";
import { postWorker, sendJobEvent, spawnWorker, submitJob } from "./job-client.js";

async function workerIds(hiveName: string): Promise<string[]> {
  const response = await SELF.fetch(`https://queen/v1/workers?hive_id=${hiveName}`, { headers: auth });
  return ((await response.json()) as { data: { id: string }[] }).data.map((worker) => worker.id);
}

/** Reconnects `name` as a hive restarted with `workers` still running, and says hello. */
async function reconnect(name: string, token: string, workers: string[]): Promise<TestHive> {
  const hive = await TestHive.connect(name, token);
  hive.send(helloFrame([], undefined, workers));
  await hive.next("welcome");
  return hive;
}

describe("issued workers", () => {
  it("refuses a heartbeat for a worker the hive was never issued, and never lists it", async () => {
    const hive = await TestHive.greeted("unissued-hive");
    hive.heartbeat("wrk_madeup1", "madeup-model");
    const refusal = await hive.next("error");
    expect(refusal).toMatchObject({ code: "worker_not_issued", message: expect.stringContaining("wrk_madeup1") });
    const issued = await spawnWorker(hive, "madeup-model");
    hive.heartbeat(issued, "madeup-model");
    await eventually(async () => (await workerIds("unissued-hive")).includes(issued));
    expect(await workerIds("unissued-hive")).toEqual([issued]);
  });

  it("refuses a heartbeat claiming another model than the worker was started for", async () => {
    const hive = await TestHive.greeted("mismatch-hive");
    const issued = await spawnWorker(hive, "asked-model");
    hive.heartbeat(issued, "other-model");
    expect((await hive.next("error")).code).toBe("worker_model_mismatch");
    expect(await workerIds("mismatch-hive")).toEqual([]);
  });

  it("drops at once a worker the hello of a reconnecting hive does not list, and refuses its heartbeats after", async () => {
    const token = await TestHive.register("restarted-hive");
    const first = await TestHive.connect("restarted-hive", token);
    first.send(helloFrame());
    await first.next("welcome");
    const kept = await spawnWorker(first, "restart-model", 40001);
    const lost = await spawnWorker(first, "restart-model", 40002);
    first.heartbeat(kept, "restart-model");
    first.heartbeat(lost, "restart-model");
    await eventually(async () => (await workerIds("restarted-hive")).length === 2);

    const second = await reconnect("restarted-hive", token, [kept]);
    second.heartbeat(lost, "restart-model");
    expect((await second.next("error")).code).toBe("worker_not_issued");
    const stopReason = () => env.DB.prepare("SELECT stop_reason FROM worker_history WHERE id = ?").bind(lost).first<{ stop_reason: string | null }>();
    expect((await stopReason())?.stop_reason).toBe("not_in_hello");
    // A listed worker re-attaching after the hello is still the hive's.
    second.heartbeat(kept, "restart-model", "busy");
    await eventually(async () => (await registryStub(env).getWorker(kept))?.state === "busy");
    expect(await workerIds("restarted-hive")).toEqual([kept]);
  });

  it("caps the workers of one hive, and a failed spawn frees its place", async () => {
    const hive = await TestHive.greeted("crowded-hive");
    const spawn = () => submitJob({ operation: "worker_spawn", hive: "crowded-hive", model: "crowded-model", source: "file:/m.gguf" });
    // MAX_WORKERS_PER_HIVE is 8 in these tests (vitest.config.ts).
    const jobs = (await Promise.all(Array.from({ length: 8 }, spawn))).map((job) => job.job_id);
    const refused = await postWorker({ hive: "crowded-hive", model: "crowded-model", source: "file:/m.gguf" });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { code: "too_many_workers", message: expect.stringContaining("MAX_WORKERS_PER_HIVE") } });

    sendJobEvent(hive, jobs[0] ?? "", { type: "error", code: "worker_failed_to_load", message: "no" });
    await eventually(async () => {
      const job = await spawn();
      const record = await env.DB.prepare("SELECT status FROM jobs WHERE id = ?").bind(job.job_id).first<{ status: string }>();
      return record?.status === "running";
    });
  }, 30_000);
});

describe("liveness in the hive's session", () => {
  it("sends the Registry nothing for heartbeats that changed nothing", async () => {
    const hive = await TestHive.greeted("steady-hive");
    const worker = await spawnWorker(hive, "steady-model");
    const state = async () => (await registryStub(env).getWorker(worker))?.state;
    // The worker beats on its own, as a real one does (four times per 200 ms interval: a loaded
    // machine delays timers), so it stays live however slow the machine is.
    let beating = "busy";
    let beats = 0;
    const beat = setInterval(() => {
      hive.heartbeat(worker, "steady-model", beating);
      beats += 1;
    }, 50);
    try {
      await eventually(async () => (await state()) === "busy", 10_000);
      const before = (await registryStub(env).stats("steady-hive")).reports;
      const mark = beats;
      await eventually(async () => beats - mark >= 10, 10_000);
      // A change after them: once the Registry has it, the beats before were handled too (one socket, in order).
      beating = "ready";
      await eventually(async () => (await state()) === "ready", 10_000);
      // One report, for the one change. Forwarding every heartbeat would make it ten or more; a
      // machine so loaded that the 200 ms test interval lapses may add an expiry and a return.
      expect((await registryStub(env).stats("steady-hive")).reports - before).toBeLessThanOrEqual(3);
    } finally {
      clearInterval(beat);
    }
  }, 40_000);

  it("drops a worker silent for three heartbeat intervals while its hive stays connected", async () => {
    const hive = await TestHive.greeted("silent-worker-hive");
    const worker = await spawnWorker(hive, "silent-worker-model");
    hive.heartbeat(worker, "silent-worker-model");
    await eventually(async () => (await workerIds("silent-worker-hive")).includes(worker));
    await eventually(async () => !(await workerIds("silent-worker-hive")).includes(worker), 3000);
    expect(hive.closed).toBeUndefined();
  });
});

describe("a hive that drops its socket and comes back", () => {
  it("holds a request made while it is away, serves it on the worker that lived on, and starts no second one", async () => {
    const token = await TestHive.register("blip-hive");
    const first = await TestHive.connect("blip-hive", token);
    const catalog = [{ source: "file:/models/blip-model.gguf", name: "blip-model", sizeBytes: 1024, memoryBytes: 1024, vramBytes: 1024 }];
    first.send({ ...helloFrame(), models: catalog });
    await first.next("welcome");
    const worker = await spawnWorker(first, "blip-model");
    first.heartbeat(worker, "blip-model");
    await eventually(async () => (await workerIds("blip-hive")).includes(worker));

    first.ws.close(4000, "network blip");
    await eventually(async () => (await workerIds("blip-hive")).length === 0);
    const answer = SELF.fetch("https://queen/v1/chat/completions", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ model: "blip-model", messages: [{ role: "user", content: "hi" }] }),
    });
    await eventually(async () => (await registryStub(env).stats()).queued === 1);

    // The restarted hive says hello before its surviving worker finds it and beats again: the
    // request still waits for that worker rather than spawning another copy of the model.
    const second = await TestHive.connect("blip-hive", token);
    second.send({ ...helloFrame([], undefined, [worker]), models: catalog });
    await second.next("welcome");
    second.heartbeat(worker, "blip-model");
    const request = await second.next("request");
    expect(request.workerId).toBe(worker);
    second.respond(request.requestId, 200, JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: "back" }, finish_reason: "stop" }] }));
    expect((await answer).status).toBe(200);
    expect([...first.frames, ...second.frames].filter((frame) => frame.type === "job_start")).toHaveLength(0);
  });
});
