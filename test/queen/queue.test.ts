// The queen's queue, leases and failover through the real inference route, Registry and
// HiveSession inside workerd, with test hives answering as workers would.
import { env, SELF } from "cloudflare:test";
import { registryStub } from "../../queen/registry/stub.js";
import { cacheScopeOf } from "../../queen/scheduling/prompt-affinity.js";
import { WAITING_COMMENT } from "../../queen/streams/early-stream-head.js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { QueenToHiveFrame } from "../../shared/protocol/hive-frames.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";
import { createKey, errorOf, usageRows } from "./admin-api.js";
import { API_KEY, contentChunk, eventually, listModelIds, schedulingOf, TestHive } from "./hive-socket.js";
import { spawnWorker } from "./job-client.js";

type RequestFrame = Extract<QueenToHiveFrame, { type: "request" }>;

let inferenceKey = "";
beforeAll(async () => {
  inferenceKey = (await createKey(["inference"])).key;
});

/** Heartbeat timers of the hives a test started; the registry drops a worker that stops beating. */
const beating: Array<ReturnType<typeof setInterval>> = [];
afterEach(() => {
  for (const timer of beating.splice(0)) clearInterval(timer);
});

/** The worker id the queen issued to each test hive's worker. */
const workerOf = new Map<TestHive, string>();

/** A greeted hive whose single-slot worker, issued through a spawn job, beats ready for `model` until the test ends. */
async function hiveWithWorker(hiveName: string, model: string, tokensPerSecond = 0): Promise<TestHive> {
  const hive = await TestHive.greeted(hiveName);
  const workerId = await spawnWorker(hive, model);
  workerOf.set(hive, workerId);
  const beat = () => {
    // A test may close its hive before the test ends: a worker does not beat through a closed socket.
    if (hive.ws.readyState === WebSocket.OPEN) hive.send({ type: "worker_heartbeats", heartbeats: [fakeHeartbeat({ workerId, model, port: 40001, tokensPerSecond })] });
  };
  beat();
  // Twice as often as the 200 ms interval asks: a busy test machine delays timers.
  beating.push(setInterval(beat, 50));
  await eventually(async () => (await listModelIds()).includes(model));
  return hive;
}

function chat(model: string, options: { key?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${options.key ?? API_KEY}`, "content-type": "application/json", ...options.headers },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
}

/** A streamed chat request for `model`, as `chat` sends a whole one. */
function stream(model: string, headers: Record<string, string> = {}, key = API_KEY): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
}

function answer(hive: TestHive, request: RequestFrame, text = "hello"): void {
  hive.respond(request.requestId, 200, JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }] }));
}

/** Three hives with a worker each for `model`, fastest first: the order the queen places a request in. */
async function threeWorkersInOrder(prefix: string, model: string): Promise<[TestHive, TestHive, TestHive]> {
  return [await hiveWithWorker(`${prefix}-1`, model, 50), await hiveWithWorker(`${prefix}-2`, model, 20), await hiveWithWorker(`${prefix}-3`, model, 1)];
}

/** Ends the next request the queen sends `hive` with `error`, before any byte of an answer. */
async function failNextRequest(hive: TestHive, error: { code: string; message: string }): Promise<void> {
  hive.send({ type: "response_end", requestId: (await hive.next("request")).requestId, chunks: 0, error });
}

/** How many requests the queen has sent `hive` that it has not taken yet. */
function waitingAt(hive: TestHive): number {
  return hive.frames.filter((frame) => frame.type === "request").length;
}

describe("the queue in the queen", () => {
  it("answers 64 concurrent requests on one single-slot worker, sending the worker one at a time", async () => {
    const hive = await hiveWithWorker("burst-hive", "burst-model");
    const responses = Array.from({ length: 64 }, () => chat("burst-model").then(async (response) => ({ status: response.status, text: await response.text() })));
    let mostAtOnce = 0;
    const first = await hive.next("request");
    // The 63 behind it show in the model's estimated wait (at the 2 s a request is taken to last before any ended).
    const estimatedWait = async () =>
      ((await (await SELF.fetch("https://queen/v1/models/burst-model", { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { estimated_wait_seconds: number }).estimated_wait_seconds;
    await eventually(async () => (await estimatedWait()) === 63 * 2);
    answer(hive, first, "answer 0");
    for (let served = 1; served < 64; served += 1) {
      const request = await hive.next("request");
      // Give a second request the chance to overtake the answer: it must not come while this one is open.
      await new Promise((resolve) => setTimeout(resolve, 5));
      mostAtOnce = Math.max(mostAtOnce, 1 + waitingAt(hive));
      answer(hive, request, `answer ${served}`);
    }
    const answered = await Promise.all(responses);
    expect(answered.filter((response) => response.status !== 200)).toEqual([]);
    expect(mostAtOnce).toBe(1);
  }, 60_000);

  it("refuses requests beyond the queue's bound with 429 queue_full and Retry-After", async () => {
    const hive = await hiveWithWorker("full-hive", "full-model");
    // One in flight on the worker (never answered), then 90 more: QUEUE_MAX_PER_MODEL (80 in
    // these tests) wait and the other 10 are refused at once.
    const inFlight = chat("full-model");
    await hive.next("request");
    const settled: Response[] = [];
    const held: Array<Promise<Response>> = [];
    for (let batch = 0; batch < 9; batch += 1) {
      for (let index = 0; index < 10; index += 1) {
        held.push(
          chat("full-model", { key: inferenceKey }).then((response) => {
            settled.push(response);
            return response;
          }),
        );
      }
      // Test, queen and hive share one isolate here: in batches, the worker's heartbeats still get their turn.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await eventually(async () => settled.length >= 10, 15_000);
    expect(settled.map((response) => response.status)).toEqual(Array.from({ length: 10 }, () => 429));
    const refused = settled[0] as Response;
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    // A full queue empties by itself: the SDKs may retry it after Retry-After.
    expect(refused.headers.has("x-should-retry")).toBe(false);
    expect(refused.headers.get("server-timing")).toContain("queue;dur=");
    expect(await errorOf(refused)).toMatchObject({ code: "queue_full", type: "rate_limit_error" });
    // The hive leaves: the request in flight fails at once, the waiting ones once no worker came back; none hangs.
    hive.ws.close(1000, "bye");
    expect((await inFlight).status).toBe(502);
    const waited = await Promise.all(held);
    expect(waited.filter((response) => response.status !== 429).every((response) => response.status === 503)).toBe(true);
  }, 40_000);

  describe("a stream that waits for a worker", () => {
    const decoder = new TextDecoder();
    async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<string> {
      let read = "";
      while (!read.includes(text)) {
        const { done, value } = await reader.read();
        if (done) break;
        read += decoder.decode(value, { stream: true });
      }
      return read;
    }
    /** A worker of `model` whose one slot a request holds: `free` answers it, so the slot is free again. */
    async function busyWorker(name: string, model: string) {
      const hive = await hiveWithWorker(`${name}-hive`, model);
      const busy = chat(model);
      const first = await hive.next("request");
      const free = async () => {
        answer(hive, first);
        await (await busy).text(); // its body's end gives its lease back
      };
      return { hive, free };
    }

    /** The one usage row of key `id` once it is written: each waiting stream is counted, however it ended. */
    async function countedFor(id: string) {
      await eventually(async () => (await usageRows(`key_id=${id}`)).length === 1);
      const [row] = await usageRows(`key_id=${id}`);
      return { requests: row?.requests, prompt_tokens: row?.prompt_tokens, completion_tokens: row?.completion_tokens };
    }

    it("gets its head at once and a comment while it waits, then the worker's events, whose tokens are counted", async () => {
      const { hive, free } = await busyWorker("early-head", "early-head-model");
      const { id, key } = await createKey(["inference"]);
      const response = await stream("early-head-model", {}, key);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      const reader = response.body?.getReader();
      if (!reader) throw new Error("no body");
      expect(await readUntil(reader, "\n\n")).toBe(WAITING_COMMENT);
      expect(waitingAt(hive)).toBe(0); // still queued: the worker's one slot is taken
      await free();
      const second = await hive.next("request");
      hive.respond(second.requestId, 200, `data: ${contentChunk("queued, then served")}\n\ndata: [DONE]\n\n`, "text/event-stream");
      const rest = await readUntil(reader, "[DONE]");
      expect(rest).toContain("queued, then served");
      await reader.cancel();
      expect(await countedFor(id)).toEqual({ requests: 1, prompt_tokens: 0, completion_tokens: 1 });
    }, 15_000);

    it("leaves the queue when its client leaves, and is never sent to the worker", async () => {
      const { hive, free } = await busyWorker("left-queue", "left-queue-model");
      const queuedBefore = (await registryStub(env).stats()).queued;
      const { id, key } = await createKey(["inference"]);
      const response = await stream("left-queue-model", {}, key);
      const reader = response.body?.getReader();
      if (!reader) throw new Error("no body");
      await readUntil(reader, "\n\n");
      expect((await registryStub(env).stats()).queued).toBe(queuedBefore + 1);
      await reader.cancel();
      await eventually(async () => (await registryStub(env).stats()).queued === queuedBefore);
      expect(await countedFor(id)).toEqual({ requests: 1, prompt_tokens: 0, completion_tokens: 0 });
      await free();
      // The next request takes the free slot; the one that left never reached the hive.
      const next = chat("left-queue-model");
      const sent = await hive.next("request");
      answer(hive, sent, "next");
      expect((await next).status).toBe(200);
      expect(waitingAt(hive)).toBe(0);
    }, 15_000);

    it("carries its comment through the Responses and Anthropic dialects, whose clients leave the queue too", async () => {
      const { hive, free } = await busyWorker("dialect-wait", "dialect-wait-model");
      const asks = [
        { path: "/v1/responses", body: { model: "dialect-wait-model", input: "hi", stream: true } },
        { path: "/v1/messages", body: { model: "dialect-wait-model", max_tokens: 8, messages: [{ role: "user", content: "hi" }], stream: true } },
      ];
      for (const { path, body } of asks) {
        const queuedBefore = (await registryStub(env).stats()).queued;
        const response = await SELF.fetch(`https://queen${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        const reader = response.body?.getReader();
        if (!reader) throw new Error("no body");
        expect(await readUntil(reader, WAITING_COMMENT), path).toContain(WAITING_COMMENT);
        await reader.cancel();
        await eventually(async () => (await registryStub(env).stats()).queued === queuedBefore);
      }
      await free();
      expect(waitingAt(hive)).toBe(0);
    }, 20_000);

    it("ends with the refusal as its one event when its deadline passes in the queue", async () => {
      const { free } = await busyWorker("late-refusal", "late-refusal-model");
      const { id, key } = await createKey(["inference"]);
      const response = await stream("late-refusal-model", { "x-request-timeout": "2" }, key);
      expect(response.status).toBe(200);
      const text = await response.text();
      const events = text.split("\n\n").filter(Boolean);
      expect(events[0]).toBe(WAITING_COMMENT.trim());
      const error = JSON.parse((events.at(-1) ?? "").replace(/^data: /, "")) as { error: { code: string; message: string } };
      expect(error.error).toMatchObject({ code: "queue_timeout", message: expect.stringContaining("X-Request-Timeout") });
      expect(await countedFor(id)).toEqual({ requests: 1, prompt_tokens: 0, completion_tokens: 0 });
      await free();
    }, 15_000);
  });

  it("answers a request that waited past its X-Request-Timeout with 504 queue_timeout", async () => {
    const hive = await hiveWithWorker("stuck-hive", "stuck-model");
    const stuck = chat("stuck-model");
    await hive.next("request");
    const response = await chat("stuck-model", { headers: { "x-request-timeout": "1" } });
    expect(response.status).toBe(504);
    const error = await errorOf(response);
    expect(error.code).toBe("queue_timeout");
    expect(error.message).toMatch(/Waited \d+\.\d s .* number 1 of 1/);
    // Its Server-Timing says where the second went: in the queue.
    const queuedMs = Number(/queue;dur=([\d.]+)/.exec(response.headers.get("server-timing") ?? "")?.[1]);
    expect(queuedMs).toBeGreaterThanOrEqual(900);
    // Its hive goes: the stuck request waits for it to come back, and is not handed its worker
    // again meanwhile only to be told that hive is offline (503).
    hive.ws.close(1000, "bye");
    const lost = await stuck;
    expect(lost.status).toBe(502);
    expect(await errorOf(lost)).toMatchObject({ code: "hive_disconnected" });
  }, 15_000);

  it("answers 504 when the worker has not started answering by the request's X-Request-Timeout, and cancels it there", async () => {
    const hive = await hiveWithWorker("silent-hive", "silent-model");
    const response = chat("silent-model", { headers: { "x-request-timeout": "1" } });
    const request = await hive.next("request");
    const answered = await response;
    expect(answered.status).toBe(504);
    expect(await errorOf(answered)).toMatchObject({ code: "worker_timeout", message: expect.stringContaining("X-Request-Timeout") });
    expect(await hive.next("cancel")).toEqual({ type: "cancel", requestId: request.requestId });
    // The request ran out of time, which says nothing against its worker: it is not passed over.
    // Its lease is given back as the answer ends, a moment after the client has it.
    await eventually(async () => (await schedulingOf(request.workerId))?.leases === 0);
    expect(await schedulingOf(request.workerId)).toEqual({ leases: 0, cooling: false });
  }, 15_000);

  it("stops a non-streamed request at the timeout its client's SDK declares, Node's whole seconds or Python's read timeout", async () => {
    const hive = await hiveWithWorker("sdk-timeout-hive", "sdk-timeout-model");
    const declarations: Array<Record<string, string>> = [{ "x-stainless-timeout": "0" }, { "x-stainless-read-timeout": "1.0" }];
    for (const declared of declarations) {
      const startedAt = Date.now();
      const response = chat("sdk-timeout-model", { headers: declared });
      const request = await hive.next("request");
      // The client gave up after its timeout (under a second, which Node's SDK sends as 0): the worker is told to stop.
      expect(await hive.next("cancel")).toEqual({ type: "cancel", requestId: request.requestId });
      expect(Date.now() - startedAt).toBeLessThan(5000);
      expect((await response).status).toBe(504);
      await eventually(async () => (await schedulingOf(request.workerId))?.leases === 0);
    }
  }, 15_000);

  it("leaves a stream to run past its SDK's timeout, which bounds only the wait for its head", async () => {
    const hive = await hiveWithWorker("sdk-stream-hive", "sdk-stream-model");
    const response = stream("sdk-stream-model", { "x-stainless-timeout": "1" }, inferenceKey);
    const request = await hive.next("request");
    hive.send({ type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: `data: ${contentChunk("first")}\n\n` });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 1, data: `data: ${contentChunk("later")}\n\ndata: [DONE]\n\n` });
    hive.send({ type: "response_end", requestId: request.requestId, chunks: 2 });
    const text = await (await response).text();
    expect(text).toContain("later");
    expect(text).not.toContain("request_timeout");
  }, 15_000);

  it("cuts a stream still running at the request's X-Request-Timeout with a request_timeout event, and cancels it there", async () => {
    const hive = await hiveWithWorker("slow-stream-hive", "slow-stream-model");
    const response = stream("slow-stream-model", { "x-request-timeout": "1" }, inferenceKey);
    const request = await hive.next("request");
    hive.send({ type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    // Half an event first: the error may only follow a whole one.
    const first = `data: ${contentChunk("first")}\n\n`;
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: first.slice(0, 20) });
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 1, data: first.slice(20) });
    // …and then the worker goes on generating slowly, past the deadline.
    const text = await (await response).text();
    expect(text.startsWith(first)).toBe(true);
    const events = text.split("\n\n").filter(Boolean);
    expect(events).toHaveLength(2);
    expect(JSON.parse((events[1] ?? "").replace(/^data: /, ""))).toMatchObject({ error: { code: "request_timeout", message: expect.stringContaining("X-Request-Timeout") } });
    expect(await hive.next("cancel")).toEqual({ type: "cancel", requestId: request.requestId });
  }, 15_000);

  it("refuses an X-Request-Timeout that is not a number of seconds with 400 naming the header", async () => {
    const response = await chat("any-model", { headers: { "x-request-timeout": "soon" } });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: "invalid_header", param: "X-Request-Timeout" });
  });
});

describe("where the time went and who served it", () => {
  it("sends the worker its key's cache scope, in place of any the client sent", async () => {
    const hive = await hiveWithWorker("scope-hive", "scope-model");
    const { id, key } = await createKey(["inference"]);
    const asked = SELF.fetch("https://queen/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "scope-model", messages: [{ role: "user", content: "hi" }], rbee_cache_scope: "someone-elses" }),
    });
    const request = await hive.next("request");
    expect(JSON.parse(request.body)).toMatchObject({ rbee_cache_scope: cacheScopeOf(id) });
    answer(hive, request);
    expect((await asked).status).toBe(200);
    expect(cacheScopeOf(id)).not.toBe(cacheScopeOf("admin"));
  });

  it("sends Server-Timing on every answer, and names the hive and worker to admin keys only", async () => {
    const hive = await hiveWithWorker("timing-hive", "timing-model");
    const asAdmin = chat("timing-model");
    answer(hive, await hive.next("request"));
    const admin = await asAdmin;
    expect(admin.status).toBe(200);
    expect(admin.headers.get("server-timing")).toMatch(/^queue;dur=[\d.]+, spawn;dur=[\d.]+, place;dur=[\d.]+, relay;dur=[\d.]+$/);
    expect(admin.headers.get("x-rbee-hive")).toBe("timing-hive");
    expect(admin.headers.get("x-rbee-worker")).toBe(workerOf.get(hive));
    expect(admin.headers.get("access-control-expose-headers")).toContain("server-timing");
    // The lease is held until the body ends: read it, so the next request gets the slot.
    await admin.text();

    const asClient = chat("timing-model", { key: inferenceKey });
    answer(hive, await hive.next("request"));
    const client = await asClient;
    expect(client.headers.get("server-timing")).toContain("relay;dur=");
    expect(client.headers.get("x-rbee-hive")).toBeNull();
    expect(client.headers.get("x-rbee-worker")).toBeNull();
  });
});

describe("failover before the first byte", () => {
  it("retries on another worker a request whose worker was unreachable, and the client gets 200", async () => {
    // The faster worker is placed first.
    const first = await hiveWithWorker("failing-hive", "failover-model", 50);
    const second = await hiveWithWorker("spare-hive", "failover-model", 1);
    const pending = chat("failover-model", { key: inferenceKey });
    await failNextRequest(first, { code: "worker_unreachable", message: "connect ECONNREFUSED" });
    answer(second, await second.next("request"), "from the spare");
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("from the spare");
    expect(response.headers.get("x-rbee-failovers")).toBe("1");
  });

  it("times a failed-over request's wait for the next worker as queue, not as relay: Server-Timing's parts add up to no more than the request took", async () => {
    const busy = await hiveWithWorker("timed-busy-hive", "timed-failover-model", 1);
    const blocker = chat("timed-failover-model");
    const blocked = await busy.next("request");
    const failing = await hiveWithWorker("timed-failing-hive", "timed-failover-model", 50);
    const startedAt = Date.now();
    const pending = chat("timed-failover-model", { key: inferenceKey });
    await failNextRequest(failing, { code: "worker_unreachable", message: "connect ECONNREFUSED" });
    // The request now waits in the queue for the busy worker, for a second (its lease ends as its answer is read).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    answer(busy, blocked, "the blocker");
    expect(await (await blocker).text()).toContain("the blocker");
    answer(busy, await busy.next("request"), "after the wait");
    const response = await pending;
    const tookMs = Date.now() - startedAt;
    expect(await response.text()).toContain("after the wait");
    const parts = Object.fromEntries([...(response.headers.get("server-timing") ?? "").matchAll(/(\w+);dur=([\d.]+)/g)].map(([, name, ms]) => [name, Number(ms)]));
    expect(parts.queue).toBeGreaterThanOrEqual(900);
    expect(parts.queue + parts.spawn + parts.place + parts.relay).toBeLessThanOrEqual(tookMs + 1);
  });

  it("hands a request that two workers took and failed on before answering to no third: it may be what breaks them", async () => {
    const [first, second, third] = await threeWorkersInOrder("poisoned-hive", "poison-model");
    const pending = chat("poison-model", { key: inferenceKey });
    const died = { code: "worker_disconnected", message: "worker on port 40001 took the request and closed the connection before answering: socket hang up" };
    await failNextRequest(first, died);
    await failNextRequest(second, died);
    const response = await pending;
    expect(response.status).toBe(502);
    expect(await errorOf(response)).toMatchObject({ code: "worker_disconnected" });
    expect(response.headers.get("x-rbee-failovers")).toBe("1");
    expect(waitingAt(third)).toBe(0);
  });

  it("still tries a third worker when the first two could not be reached at all", async () => {
    const [first, second, third] = await threeWorkersInOrder("unreached-hive", "unreached-model");
    const pending = chat("unreached-model", { key: inferenceKey });
    const refused = { code: "worker_unreachable", message: "worker on port 40001 is unreachable: connect ECONNREFUSED" };
    await failNextRequest(first, refused);
    await failNextRequest(second, refused);
    answer(third, await third.next("request"), "from the third");
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("from the third");
    expect(response.headers.get("x-rbee-failovers")).toBe("2");
  });

  it("passes a worker's own 400 to the client without trying another worker", async () => {
    const first = await hiveWithWorker("strict-hive", "strict-failover-model", 50);
    const second = await hiveWithWorker("other-strict-hive", "strict-failover-model", 1);
    const pending = chat("strict-failover-model");
    const request = await first.next("request");
    const body = '{"error":{"message":"bad prompt","type":"invalid_request_error","param":null,"code":"bad_prompt"}}';
    first.respond(request.requestId, 400, body);
    const response = await pending;
    expect(response.status).toBe(400);
    expect(await response.text()).toBe(body);
    expect(waitingAt(second)).toBe(0);
  });
});
