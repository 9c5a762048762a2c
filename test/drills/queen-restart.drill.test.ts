// Drill: the local queen restarts (as a deploy restarts Durable Objects) while a hive is
// connected and a model download job runs on it. The hive must come back by itself with
// jittered backoff, D1 must still hold the hive and the job, and the job must end with its true
// outcome: the hive keeps the events it could not send (the end among them, when the download
// finished while the queen was down), lists the job in its hello and replays them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { call, jobEvents } from "../node/job-stream.js";
import { type LocalCloud, startLocalCloud, waitUntil } from "../node/local-cloud.js";
import { FakeHub } from "../support/fake-hub.js";

const HIVE = "queen-restart-hive";
const REPO = "rbee-test/restart-GGUF";
const model = createTinyLlamaGguf();

describe("drill: the queen restarts while a job runs", () => {
  let hub: FakeHub;
  let cloud: LocalCloud;

  beforeAll(async () => {
    // Slow enough that the download is still running when the queen goes down.
    hub = await FakeHub.start({ repos: [{ id: REPO, files: [{ path: "restart.Q4_K_M.gguf", bytes: model, lfs: true, bytesPerSecond: 96 * 1024 }] }] });
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: HIVE, hiveEnv: { HF_ENDPOINT: hub.url } });
  });

  afterAll(async () => {
    await cloud?.stop();
    await hub?.close();
  });

  it("reconnects the hive, keeps D1, and ends the job with its true outcome", async () => {
    const submitted = await call(cloud, "POST", "/v1/jobs", { operation: "model_download", hive: HIVE, model: `hf:${REPO}` });
    expect(submitted.status).toBe(202);
    const jobId = (submitted.json as { job_id: string }).job_id;
    await waitUntil(() => cloud.hiveLog.some((line) => line.includes(`job ${jobId}`)), 30_000, "the hive to start the job");

    const welcomesBefore = cloud.hiveLog.filter((line) => line.includes("queen welcomed")).length;
    const restartStartedAtMs = Date.now();
    await cloud.restartQueen();
    const queenBackAtMs = Date.now();
    await waitUntil(() => cloud.hiveLog.filter((line) => line.includes("queen welcomed")).length > welcomesBefore, 60_000, "the hive to be welcomed again");
    const hiveBackAtMs = Date.now();

    const events = await jobEvents(cloud, `${cloud.queen.url}/v1/jobs/${jobId}/stream`);
    const record = await call(cloud, "GET", `/v1/jobs/${jobId}`);
    const hives = await call(cloud, "GET", "/v1/hives");
    const delays = cloud.hiveLog.flatMap((line) => /reconnecting in (\d+) ms/.exec(line)?.[1] ?? []).map(Number);
    // Stamped when the queen logged it: after the restart, the end was kept and replayed by the hive.
    const endLoggedAfterRestart = Date.parse(events.at(-1)?.ts ?? "") >= queenBackAtMs;
    console.log(
      `queen-restart drill: the queen was down ${queenBackAtMs - restartStartedAtMs} ms; the hive was welcomed again ` +
        `${hiveBackAtMs - queenBackAtMs} ms after the queen was back, after reconnect delays of [${delays.join(", ")}] ms; ` +
        `the job logged ${events.length} events and ended '${events.at(-1)?.type}' (record: ${(record.json as { status: string }).status}); ` +
        `the end was logged ${endLoggedAfterRestart ? "after the restart (replayed or sent after the reconnect)" : "before the restart"}`,
    );
    expect(delays.length).toBeGreaterThan(0);
    expect(events.at(-1)?.type).toBe("done");
    expect(events.some((event) => event.type === "data")).toBe(true);
    expect(record.json).toMatchObject({ id: jobId, status: "done", hive: HIVE });
    expect((hives.json as { data: Array<{ name: string; online: boolean }> }).data).toContainEqual(expect.objectContaining({ name: HIVE, online: true }));
  });
});
