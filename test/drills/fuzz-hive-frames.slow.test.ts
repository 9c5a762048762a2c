// Fault drill: a hostile hive with a valid token sends thousands of random and mutated frames to
// a real local queen — random bytes, random JSON, valid frames with fields retyped, huge, negative
// or deeply nested, unknown types, binary frames, answers to requests and events of jobs it was
// never given, heartbeats for another hive's worker. The queen must answer with `error` frames or
// close that socket with a documented code, never crash, and never disturb a second,
// well-behaved hive, whose worker serves chat requests during and after the fuzzing.
// FUZZ_SEED reproduces a run; FUZZ_HIVE_FRAMES sets how many frames (default 2,000).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../shared/ids.js";
import { CloseCode } from "../../shared/protocol/close-codes.js";
import { MAX_FRAME_BYTES } from "../../shared/protocol/hive-frames.js";
import { waitUntil } from "../../shared/wait-until.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";
import { FuzzValues, fuzzCount, fuzzSeed } from "../support/fuzz-values.js";
import { expectChatAnswered, type LocalCloud, startLocalCloud, TINY_MODEL } from "../node/local-cloud.js";
import { TEST_DEVICES } from "../support/test-devices.js";
import { FUZZ_HELLO, HostileHive } from "./hostile-hive.js";

const GOOD_HIVE = "drill-good-hive";
const HOSTILE_HIVE = "drill-hostile-hive";
const FRAMES = fuzzCount("FUZZ_HIVE_FRAMES", 2000);

/** Codes the queen may close a hive's socket with: rbee's own, and the WebSocket protocol's for a frame it cannot take. */
const DOCUMENTED_CLOSE_CODES = new Set<number>([...Object.values(CloseCode), 1000, 1007, 1009]);

function validFrames(fuzz: FuzzValues, goodWorkerId: string): Record<string, unknown>[] {
  const requestId = newId("req");
  const heartbeat = fakeHeartbeat({ workerId: fuzz.chance(0.1) ? goodWorkerId : newId("wrk"), model: "fuzz-model", port: 4243 });
  return [
    FUZZ_HELLO,
    { type: "hive_status", devices: TEST_DEVICES },
    { type: "worker_heartbeats", heartbeats: [heartbeat] },
    { type: "job_event", jobId: newId("job"), seq: 0, event: { type: "narration", action: "spawn", message: "hi" } },
    { type: "job_event", jobId: newId("job"), seq: 1, event: { type: "data", payload: { worker_id: heartbeat.workerId } } },
    { type: "job_event", jobId: newId("job"), seq: 2, event: { type: "done" } },
    { type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } },
    { type: "response_chunk", requestId, seq: 0, data: "data: {}\n\n" },
    { type: "response_end", requestId, chunks: 1, error: { code: "worker_disconnected", message: "gone" } },
  ];
}

/** One hostile frame, and how it goes on the wire. */
function nextFrame(fuzz: FuzzValues, goodWorkerId: string): { kind: string; data: string | Uint8Array; binary: boolean } {
  const roll = fuzz.int(0, 99);
  if (roll < 5) return { kind: "binary", data: fuzz.bytes(fuzz.int(0, 4096)), binary: true };
  if (roll < 7) return { kind: "invalid utf-8 text", data: Uint8Array.of(0x7b, 0xff, 0xfe, 0xc3, 0x28, 0x7d), binary: false };
  if (roll < 15) return { kind: "random text", data: fuzz.string(), binary: false };
  if (roll < 25) return { kind: "random json", data: JSON.stringify(fuzz.json(4)) ?? "null", binary: false };
  if (roll < 28) return { kind: "deep nesting", data: fuzz.deeplyNestedJson(fuzz.int(1000, 100_000)), binary: false };
  if (roll < 33) {
    const unknown = { ...(fuzz.json(2) as object), type: fuzz.chance(0.5) ? fuzz.string().slice(0, 64) : "request" };
    return { kind: "unknown type", data: JSON.stringify(unknown), binary: false };
  }
  const frames = validFrames(fuzz, goodWorkerId);
  // Valid frames as they are: answers to requests never sent, events of jobs never given, heartbeats.
  if (roll < 50) return { kind: "valid, ids never sent", data: JSON.stringify(fuzz.pick(frames)), binary: false };
  return { kind: "mutated", data: JSON.stringify(fuzz.mutate(fuzz.pick(frames))), binary: false };
}

describe("drill: a hostile hive fuzzes the queen with frames", () => {
  let cloud: LocalCloud;
  let goodWorkerId: string;
  let hostileToken: string;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: GOOD_HIVE });
    const worker = await cloud.client.spawnWorker({ hive: GOOD_HIVE, model: TINY_MODEL, source: cloud.modelSource });
    goodWorkerId = worker.id;
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
    hostileToken = (await cloud.client.createHive(HOSTILE_HIVE)).token;
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it("answers or closes with documented codes, stays up, and leaves the other hive serving", async () => {
    const seed = fuzzSeed();
    console.log(`[fuzz-hive-frames] seed ${seed} (FUZZ_SEED=${seed} reproduces it), ${FRAMES} frames`);
    const fuzz = new FuzzValues(seed);
    const hostile = new HostileHive(cloud.queen.url, HOSTILE_HIVE, hostileToken);
    const sentByKind = new Map<string, number>();
    const welcomesBefore = cloud.hiveLog.filter((line) => line.includes("queen welcomed")).length;

    // The well-behaved hive keeps serving while the fuzzing goes on.
    let fuzzing = true;
    let servedDuring = 0;
    const chatting = (async () => {
      while (fuzzing) {
        await expectChatAnswered(cloud);
        servedDuring += 1;
      }
    })();

    for (let i = 0; i < FRAMES; i++) {
      const frame = i === Math.floor(FRAMES / 2) ? { kind: "over the frame limit", data: "x".repeat(MAX_FRAME_BYTES + 1), binary: false } : nextFrame(fuzz, goodWorkerId);
      sentByKind.set(frame.kind, (sentByKind.get(frame.kind) ?? 0) + 1);
      await hostile.send(frame.data, { binary: frame.binary });
      if (i % 100 === 99) await hostile.settle();
    }
    await hostile.settle();
    fuzzing = false;
    await chatting;
    hostile.close();

    console.log(`[fuzz-hive-frames] sent by kind: ${JSON.stringify(Object.fromEntries(sentByKind))}`);
    console.log(`[fuzz-hive-frames] queen answered: ${JSON.stringify(Object.fromEntries(hostile.answers))}`);
    console.log(`[fuzz-hive-frames] ${hostile.connections} connections; close codes: ${JSON.stringify(Object.fromEntries(hostile.closeCodes))}`);
    console.log(`[fuzz-hive-frames] the good hive served ${servedDuring} chat requests during the fuzzing`);

    expect(hostile.count("unparsable"), "every answer is a protocol frame").toBe(0);
    // Nothing but refusals, welcomes and acks (a refused job event is acknowledged too, so a hive
    // stops replaying it): a hostile hive is never handed work.
    expect([...hostile.answers.keys()].filter((key) => !key.startsWith("error:") && key !== "welcome" && key !== "job_ack")).toEqual([]);
    expect([...hostile.closeCodes.keys()].filter((code) => !DOCUMENTED_CLOSE_CODES.has(code))).toEqual([]);
    expect(hostile.count("error:worker_not_issued"), "heartbeats for the other hive's worker are refused").toBeGreaterThan(0);

    expect(servedDuring).toBeGreaterThan(0);
    await expectChatAnswered(cloud);
    expect((await fetch(`${cloud.queen.url}/health`)).status).toBe(200);
    // Ready again once its heartbeat after that last answer (sent at once, on its own way) arrived.
    const goodStates = async () => (await cloud.client.listWorkers()).filter((worker) => worker.id === goodWorkerId).map((worker) => worker.state);
    await waitUntil(async () => (await goodStates()).join() === "ready", 5000, "the good worker to be listed ready").catch(() => {});
    expect(await goodStates()).toEqual(["ready"]);
    expect(cloud.hiveLog.filter((line) => line.includes("queen welcomed")).length, "the good hive never had to reconnect").toBe(welcomesBefore);
  });
});
