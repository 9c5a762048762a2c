// A deploy restarts the queen and drops every hive socket: the hive must reconnect by itself
// (with backoff), its running worker must be untouched, and serving must resume; a request that
// comes before the hive is back waits for it rather than being told its model does not exist.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TcpProxy } from "../support/tcp-proxy.js";
import { isAlive, type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

describe("hive reconnect", () => {
  let cloud: LocalCloud;
  let workerId: string;
  let workerPid: number;

  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    cloud = await startLocalCloud({
      heartbeatIntervalMs: 1000,
      hiveName: "reconnect-hive",
      // The hive reaches the queen through a proxy that can keep it from reconnecting for a while.
      hiveVia: async (queenUrl) => {
        proxy = await TcpProxy.start(Number(new URL(queenUrl).port));
        return `http://127.0.0.1:${proxy.port}`;
      },
    });
    const worker = await cloud.client.spawnWorker({ hive: "reconnect-hive", model: TINY_MODEL, source: cloud.modelSource });
    workerId = worker.id;
    workerPid = worker.pid;
    await cloud.client.waitForWorkerReady(workerId, 60_000);
  });

  afterAll(async () => {
    await cloud?.stop();
    await proxy?.close();
  });

  const welcomes = () => cloud.hiveLog.filter((line) => line.includes("queen welcomed")).length;

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

  it("holds a request sent after a queen restart, before its hive is back, until the hive's worker serves it", async () => {
    if (!proxy) throw new Error("no proxy");
    const welcomesBefore = welcomes();
    proxy.refuseNew = true; // the hive cannot reconnect yet
    let answer: Promise<OpenAI.ChatCompletion>;
    try {
      await cloud.restartQueen();
      const openai = new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: cloud.apiKey, maxRetries: 0 });
      answer = openai.chat.completions.create({ model: TINY_MODEL, messages: [{ role: "user", content: "Back?" }], max_tokens: 8 });
      let settled: string | undefined;
      answer.then(
        () => (settled = "answered"),
        (error: unknown) => (settled = String(error)),
      );
      // Not refused as a model that does not exist: the queen knows the hive served it a moment ago.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(settled).toBeUndefined();
      expect(welcomes()).toBe(welcomesBefore);
    } finally {
      proxy.refuseNew = false;
    }
    const completion = await answer;
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(welcomes()).toBe(welcomesBefore + 1);
    expect(isAlive(workerPid)).toBe(true);
  });

  it("stops the hive with exit status 3 when the queen revokes its token, saying so, and its worker with it", async () => {
    const revoke = await fetch(`${cloud.queen.url}/v1/hives/reconnect-hive/token`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${cloud.apiKey}` },
    });
    expect(revoke.status).toBe(200);
    await waitUntil(() => cloud.hive.exitCode !== null, 20_000, "the hive to exit");
    expect(cloud.hive.exitCode).toBe(3);
    expect((await cloud.hive.exited).refused).toBe("hive token revoked");
    expect(cloud.hiveLog.some((line) => line.includes("get a new token"))).toBe(true);
    // Nobody can reach a revoked hive's worker any more: it does not stay behind holding its model.
    await waitUntil(() => !isAlive(workerPid), 20_000, "the revoked hive's worker to exit");
  });
});
