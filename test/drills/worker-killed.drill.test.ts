// Fault drill: a worker SIGKILLed in the middle of a streamed answer, with no other worker of the
// model. The queen continues the answer (mid-stream failover) on a worker it starts from the
// hive's catalog, so the client reads one stream that ends normally (never a silent truncation,
// never a hang); the hive tells the queen the worker exited and the registry drops it then, not
// after three missed heartbeats; the next request is served by the new worker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectChatAnswered, isAlive, type LocalCloud, openAiClient, startLocalCloud, TINY_MODEL, waitUntil } from "../node/local-cloud.js";

const HEARTBEAT_INTERVAL_MS = 1000;
/** The registry forgets a worker after this many missed heartbeats (queen/registry/registry.ts), if nobody tells it sooner. */
const MISSED_HEARTBEATS_LIMIT = 3;
const HIVE = "drill-worker-killed";
/** Chunks the client reads before the worker is killed: the stream is surely under way. */
const CHUNKS_BEFORE_KILL = 3;
/**
 * A bound on every wait, so a hang fails the drill instead of stalling it. The continuation
 * includes starting a worker and generating the rest: a loaded CI machine took 28 s of 30 once.
 */
const CLIENT_WAIT_MS = 60_000;
/** The hive reports the exit at once; three intervals are the fallback, the rest slack for a busy, shared machine. */
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

  it("continues the client's stream on a worker it starts, drops the dead one, and serves the next request from the new one", async () => {
    const stream = await openAiClient(cloud).chat.completions.create(
      { model: TINY_MODEL, messages: [{ role: "user", content: "Tell me a very long story." }], max_tokens: 2000, stream: true },
      { timeout: CLIENT_WAIT_MS },
    );
    let chunks = 0;
    let killedAtMs = 0;
    let finishReason: string | null | undefined;
    let droppedAt: Promise<number> | undefined;
    const read = (async () => {
      for await (const chunk of stream) {
        chunks += 1;
        finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
        if (chunks === CHUNKS_BEFORE_KILL) {
          process.kill(worker.pid, "SIGKILL");
          killedAtMs = Date.now();
          // Watched from the kill on, while the stream goes on: when the registry drops the worker.
          droppedAt = waitUntil(async () => !(await cloud.client.listWorkers()).some((listed) => listed.id === worker.id), REGISTRY_WAIT_MS, "the registry to drop the worker").then(() => Date.now());
          droppedAt.catch(() => {}); // awaited below
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
    expect(killedAtMs, "the worker was killed after a few chunks").toBeGreaterThan(0);
    expect(outcome, outcome.kind === "error" ? String(outcome.error) : outcome.kind).toEqual({ kind: "ended cleanly" });
    expect(finishReason, "the continued stream ends as a whole answer does").toBeTruthy();
    console.log(`[worker-killed] the stream went on after the kill and ended (${finishReason}) ${Date.now() - killedAtMs} ms later, ${chunks} chunks in all`);
    await waitUntil(() => !isAlive(worker.pid), 5000, "the worker to die");

    if (!droppedAt) throw new Error("the worker was killed, so its drop is watched");
    const droppedAfterMs = (await droppedAt) - killedAtMs;
    console.log(
      `[worker-killed] registry dropped ${worker.id} ${droppedAfterMs} ms after the kill: ${(droppedAfterMs / HEARTBEAT_INTERVAL_MS).toFixed(1)} heartbeat intervals (missing ${MISSED_HEARTBEATS_LIMIT} would drop it too)`,
    );
    const report = cloud.hiveLog.find((line) => line.includes(`worker ${worker.id} ended unannounced: worker exited (SIGKILL)`));
    expect(report, "the hive told the queen of the exit").toContain("sent to the queen");

    await expectChatAnswered(cloud);
    const serving = (await cloud.client.listWorkers()).filter((listed) => listed.model === TINY_MODEL);
    expect(serving).toHaveLength(1);
    console.log(`[worker-killed] the next request was served by the worker the queen started, ${serving[0]?.id}`);
  }, 120_000);
});
