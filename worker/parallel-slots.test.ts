// Parallel slots on the real worker process (`--parallel 3 --max-queue 1`): requests generate side
// by side, one more waits, the next is refused with 503 and Retry-After, and aborts free slots.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HiveChannelStub } from "../test/support/hive-channel-stub.js";
import {
  greedyChat,
  health,
  json,
  MODEL_NAME,
  post,
  startWorker,
  writeTinyModel,
  type ChatCompletionBody,
  type ErrorBody,
  type RunningWorker,
  type TextCompletionBody,
  type TinyModel,
} from "../test/support/running-worker.js";

let model: TinyModel;
let hive: HiveChannelStub;
let worker: RunningWorker;

beforeAll(async () => {
  model = await writeTinyModel();
  hive = await HiveChannelStub.start();
  worker = await startWorker({
    workerId: "wrk_parallel1",
    modelPath: model.path,
    hiveChannel: hive.url,
    extraArgs: ["--parallel", "3", "--max-queue", "1"],
  });
});

afterAll(async () => {
  await worker?.kill();
  await hive?.close();
  await model?.remove();
});

/** A completion long enough (seconds on one thread) to hold its slot until aborted. */
function long(seed: number): Record<string, unknown> {
  return { model: MODEL_NAME, prompt: `Story ${seed}:`, temperature: 1, seed, max_tokens: 3500 };
}

describe("parallel slots", () => {
  it("generates three requests at once on three slots, and all of them complete", async () => {
    const requests = [0, 1, 2].map((index) => post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 400 + index })));
    await vi.waitFor(async () => expect((await health(worker)).slotsBusy).toBe(3), { timeout: 5000, interval: 10 });
    const bodies = await Promise.all(requests.map(async (request) => json<ChatCompletionBody>(await request)));
    expect(bodies.map((body) => body.usage.completion_tokens)).toEqual([400, 401, 402]);
    // The same greedy prompt gives the same text on every slot, each cut at its own max_tokens.
    expect(bodies[1]?.choices[0]?.message.content.startsWith(bodies[0]?.choices[0]?.message.content ?? "-")).toBe(true);
    // The hive heard every slot busy, and the state move to busy and back.
    await vi.waitFor(() => expect(hive.heartbeats(worker.workerId).at(-1)).toMatchObject({ state: "ready", slotsBusy: 0 }));
    const heartbeats = hive.heartbeats(worker.workerId);
    expect(heartbeats.some((heartbeat) => heartbeat.state === "busy" && heartbeat.slotsBusy === 3)).toBe(true);
    expect(heartbeats.at(-1)).toMatchObject({ slotsTotal: 3, device: "cpu" });
  });

  it("lets one request wait for a slot, refuses the next with 503 and Retry-After, and frees all on abort", async () => {
    const abort = new AbortController();
    const running = [1, 2, 3].map((seed) => post(worker, "/v1/completions", long(seed), abort.signal).catch(() => undefined));
    await vi.waitFor(async () => expect((await health(worker)).slotsBusy).toBe(3), { timeout: 5000, interval: 10 });

    const waiting = post(worker, "/v1/completions", long(4), abort.signal).catch(() => undefined);
    await vi.waitFor(async () => expect((await health(worker)).queueLength).toBe(1), { timeout: 5000, interval: 10 });
    await vi.waitFor(() => expect(hive.heartbeats(worker.workerId).at(-1)?.queueLength).toBe(1));

    const refused = await post(worker, "/v1/completions", long(5));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    const { error } = await json<ErrorBody>(refused);
    expect(error).toMatchObject({ type: "server_error", code: "worker_busy" });
    expect(error.message).toContain("All 3 slot(s) are busy and 1 request(s) already wait");

    abort.abort();
    await Promise.all([...running, waiting]);
    await vi.waitFor(async () => expect(await health(worker)).toMatchObject({ slotsBusy: 0, queueLength: 0 }), {
      timeout: 2000,
      interval: 10,
    });
    const after = await post(worker, "/v1/completions", { ...long(6), max_tokens: 4 });
    expect((await json<TextCompletionBody>(after)).choices[0]?.finish_reason).toBe("length");
  });

  it("starts a request on a slot an earlier request used while the other slots keep generating", async () => {
    // Every slot has held a conversation, so the next request on any of them first erases the old tokens.
    const warmUps = [0, 1, 2].map((index) => post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 300 + index })));
    await vi.waitFor(async () => expect((await health(worker)).slotsBusy).toBe(3), { timeout: 5000, interval: 10 });
    await Promise.all(warmUps.map(async (request) => expect((await request).status).toBe(200)));

    const abort = new AbortController();
    const generating = [1, 2].map((seed) => {
      const request = { settled: false, done: post(worker, "/v1/completions", long(seed), abort.signal).catch(() => undefined) };
      void request.done.finally(() => (request.settled = true));
      return request;
    });
    await vi.waitFor(async () => expect((await health(worker)).slotsBusy).toBe(2), { timeout: 5000, interval: 10 });
    await new Promise((resolve) => setTimeout(resolve, 100)); // both mid-generation

    // node-llama-cpp as released held its context lock while any sequence had a token to decode,
    // so this request's erase waited until a 3,500-token generation ended (patches/node-llama-cpp*).
    const startedAtMs = performance.now();
    const reply = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 8 }));
    expect(reply.status).toBe(200);
    expect((await json<ChatCompletionBody>(reply)).usage.completion_tokens).toBe(8);
    console.info(`a request on a reused slot answered in ${(performance.now() - startedAtMs).toFixed(0)} ms while two others generated`);
    expect(generating.map((request) => request.settled)).toEqual([false, false]);

    abort.abort();
    await Promise.all(generating.map((request) => request.done));
  });

  it("gives a conversation's next turn the slot that holds its last one, though other conversations came between", async () => {
    const opening = (topic: string) => ({ role: "user", content: `Tell me a long story about ${topic}. `.repeat(6) });
    const firstTurns = new Map<string, ChatCompletionBody>();
    for (const topic of ["a lighthouse", "a glacier", "a market"]) {
      firstTurns.set(topic, await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4, messages: [opening(topic)] }))));
    }
    for (const [topic, first] of firstTurns) {
      const answer = { role: "assistant", content: first.choices[0]?.message.content ?? "" };
      const next = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4, messages: [opening(topic), answer, { role: "user", content: "And then?" }] })));
      // Only the new turn was evaluated: the rest was held by the slot that served the first.
      expect(next.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(first.usage.prompt_tokens);
    }
  });

  it("frees a non-streaming chat's slot within a generous bound when its client aborts, and reports how fast", async () => {
    const abort = new AbortController();
    const request = post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 3500 }), abort.signal).catch(() => undefined);
    await vi.waitFor(async () => expect((await health(worker)).slotsBusy).toBe(1), { timeout: 5000, interval: 5 });
    // Let it generate for a while, so the abort lands mid-generation rather than before the first token.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const abortedAtMs = performance.now();
    abort.abort();
    await request;
    await vi.waitFor(async () => expect((await health(worker)).slotsBusy).toBe(0), { timeout: 2000, interval: 5 });
    const releaseMs = performance.now() - abortedAtMs;
    console.info(`chat slot released ${releaseMs.toFixed(0)} ms after the client aborted`);
    expect(releaseMs).toBeLessThan(1000);
  });
});
