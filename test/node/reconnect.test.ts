// A deploy restarts the queen and drops every hive socket: the hive must reconnect by itself
// (with backoff), its running worker must be untouched, and serving must resume.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive, type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

describe("hive reconnect", () => {
  let cloud: LocalCloud;
  let workerId: string;
  let workerPid: number;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: "reconnect-hive" });
    const worker = await cloud.client.spawnWorker({ hive: "reconnect-hive", model: TINY_MODEL, source: cloud.modelSource });
    workerId = worker.id;
    workerPid = worker.pid;
    await cloud.client.waitForWorkerReady(workerId, 60_000);
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it("reconnects after the queen restarts and serves again from the same worker", async () => {
    const welcomesBefore = cloud.hiveLog.filter((line) => line.includes("queen welcomed")).length;
    await cloud.restartQueen();

    await waitUntil(
      () => cloud.hiveLog.filter((line) => line.includes("queen welcomed")).length > welcomesBefore,
      30_000,
      "the hive to be welcomed again",
    );
    expect(cloud.hiveLog.some((line) => /reconnecting in \d+ ms/.test(line))).toBe(true);
    expect(isAlive(workerPid)).toBe(true);
    await cloud.client.waitForWorkerReady(workerId, 10_000);
    const workers = await cloud.client.listWorkers();
    expect(workers.filter((worker) => worker.id === workerId)).toHaveLength(1);

    const openai = new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: cloud.apiKey, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: TINY_MODEL,
      messages: [{ role: "user", content: "Still there?" }],
      max_tokens: 8,
    });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it("stops the hive, non-zero, when the queen revokes its token", async () => {
    const revoke = await fetch(`${cloud.queen.url}/v1/hives/reconnect-hive/token`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${cloud.apiKey}` },
    });
    expect(revoke.status).toBe(200);
    await waitUntil(() => cloud.hive.exitCode !== null, 20_000, "the hive to exit");
    expect(cloud.hive.exitCode).toBe(1);
    expect(cloud.hiveLog.some((line) => line.includes("get a new token"))).toBe(true);
  });
});
