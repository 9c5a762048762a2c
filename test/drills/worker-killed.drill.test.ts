// Fault drill: a worker SIGKILLed in the middle of a streamed answer. The client must get a
// terminal error (never a silent truncation, never a hang), the registry must drop the dead
// worker once its heartbeats stop, and the next request must be served once an operator starts
// a new worker (the scheduling issue will start it by itself later).
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectChatAnswered, isAlive, type LocalCloud, openAiClient, startLocalCloud, TINY_MODEL, waitUntil } from "../node/local-cloud.js";

const HEARTBEAT_INTERVAL_MS = 1000;
/** The registry forgets a worker after this many missed heartbeats (queen/registry/registry.ts). */
const MISSED_HEARTBEATS_LIMIT = 3;
const HIVE = "drill-worker-killed";
/** Chunks the client reads before the worker is killed: the stream is surely under way. */
const CHUNKS_BEFORE_KILL = 3;
/** A bound on every wait, so a hang fails the drill instead of stalling it. */
const CLIENT_WAIT_MS = 30_000;
/** The registry's promise is three intervals; the rest is slack for a busy, shared machine. */
const REGISTRY_WAIT_MS = (MISSED_HEARTBEATS_LIMIT + 7) * HEARTBEAT_INTERVAL_MS;

describe("drill: a worker killed mid-stream", () => {
  let cloud: LocalCloud;
  let worker: { id: string; pid: number };

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, hiveName: HIVE });
    worker = await cloud.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it("ends the client's stream with an error, drops the worker, and serves the next request from a new one", async () => {
    const stream = await openAiClient(cloud).chat.completions.create(
      { model: TINY_MODEL, messages: [{ role: "user", content: "Tell me a very long story." }], max_tokens: 4000, stream: true },
      { timeout: CLIENT_WAIT_MS },
    );
    let chunks = 0;
    let killedAtMs = 0;
    const read = (async () => {
      for await (const _chunk of stream) {
        chunks += 1;
        if (chunks === CHUNKS_BEFORE_KILL) {
          process.kill(worker.pid, "SIGKILL");
          killedAtMs = Date.now();
        }
      }
    })();
    const outcome = await Promise.race([
      read.then(
        () => ({ kind: "ended cleanly" as const }),
        (error: unknown) => ({ kind: "error" as const, error }),
      ),
      new Promise<{ kind: "hung" }>((resolve) => setTimeout(() => resolve({ kind: "hung" }), CLIENT_WAIT_MS).unref()),
    ]);
    const clientErrorMs = Date.now() - killedAtMs;
    expect(killedAtMs, "the worker was killed after a few chunks").toBeGreaterThan(0);
    expect(outcome.kind).toBe("error");
    const error = outcome.kind === "error" ? outcome.error : undefined;
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    console.log(`[worker-killed] client error after ${clientErrorMs} ms and ${chunks} chunks: ${apiError.message}`);
    await waitUntil(() => !isAlive(worker.pid), 5000, "the worker to die");

    await waitUntil(async () => !(await cloud.client.listWorkers()).some((listed) => listed.id === worker.id), REGISTRY_WAIT_MS, "the registry to drop the worker");
    const droppedAfterMs = Date.now() - killedAtMs;
    console.log(
      `[worker-killed] registry dropped ${worker.id} ${droppedAfterMs} ms after the kill: ${(droppedAfterMs / HEARTBEAT_INTERVAL_MS).toFixed(1)} heartbeat intervals (limit ${MISSED_HEARTBEATS_LIMIT})`,
    );

    // No worker is left: a request now gets a clear 503, and an operator starts a new worker.
    const refused = await openAiClient(cloud)
      .chat.completions.create({ model: TINY_MODEL, messages: [{ role: "user", content: "Anyone?" }], max_tokens: 4 }, { timeout: CLIENT_WAIT_MS })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    const replacement = await cloud.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(replacement.id, 60_000);
    await expectChatAnswered(cloud);
    console.log(`[worker-killed] the next request was served by a new worker ${replacement.id}`);
  });
});
