// Relay flow control inside workerd, with a test hive on the real socket route: the queen
// acknowledges to the hive only what its client's side pulled, in batches of RELAY_ACK_BYTES (and
// a long rest once the answer's end has come), so
// a client that stops reading stops the acks (and a real hive then stops at its window), while
// other requests of the same hive are answered. And a stream whose HiveSession is reset mid-answer
// (as a deploy resets Durable Objects), or whose hive's socket drops, reaches its client whole:
// resumed where the client's last event ended, or continued by a hive that cannot resume.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import { PROTOCOL_VERSION, RESUME_PROTOCOL } from "../../shared/protocol/hive-frames.js";
import { RELAY_ACK_BYTES, RELAY_END_ACK_BYTES, RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";
import { MAX_UNACKED_BYTES } from "../../queen/hive-session/pending-relay.js";
import { hiveSessionStub } from "../../queen/hive-session/stub.js";
import { answerResponse } from "../../queen/hive-session/whole-answer.js";
import { relayFailureOf } from "../../queen/scheduling/failover.js";
import { contentSoFar } from "../support/sse-streams.js";
import { auth, contentChunk, eventually, helloFrame, listModelIds, schedulingOf, TestHive } from "./hive-socket.js";
import { hiveServing, keepBeating, spawnWorker } from "./job-client.js";
import { captureQueenLog } from "./queen-log.js";

function chat(model: string): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
}

const event = (content: string) => `data: ${contentChunk(content)}\n\n`;
const bytesOf = (text: string) => new TextEncoder().encode(text).byteLength;

/** The offsets of every response_ack for `requestId` the hive got so far, taking them. */
function takeAcks(hive: TestHive, requestId: string): number[] {
  const acks: number[] = [];
  for (let index = hive.frames.length - 1; index >= 0; index -= 1) {
    const frame = hive.frames[index];
    if (frame?.type !== "response_ack" || frame.requestId !== requestId) continue;
    acks.unshift(frame.offset);
    hive.frames.splice(index, 1);
  }
  return acks;
}

describe("relay flow control", () => {
  it("acknowledges what the client pulled every RELAY_ACK_BYTES, not per chunk", async () => {
    const hive = await hiveServing("ack-hive", "ack-model");
    const responsePromise = chat("ack-model");
    const { requestId } = await hive.next("request");
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    const piece = event("é".repeat(500)); // two bytes a character: acks count bytes
    const chunks = 400;
    for (let seq = 0; seq < chunks; seq += 1) hive.send({ type: "response_chunk", requestId, seq, data: piece });
    hive.send({ type: "response_chunk", requestId, seq: chunks, data: "data: [DONE]\n\n" });
    hive.send({ type: "response_end", requestId, chunks: chunks + 1 });
    const text = await (await responsePromise).text();
    const total = bytesOf(text);
    expect(total).toBe(chunks * bytesOf(piece) + bytesOf("data: [DONE]\n\n"));

    await eventually(async () => hive.frames.some((frame) => frame.type === "response_ack"));
    // Acknowledged to within RELAY_END_ACK_BYTES of its end: the queen acknowledges a longer rest
    // once the end has come (the hive keeps such an answer until then, for a resume).
    await eventually(async () => hive.frames.some((frame) => frame.type === "response_ack" && total - frame.offset < RELAY_END_ACK_BYTES));
    const acks = takeAcks(hive, requestId);
    // Batched: at most one ack per RELAY_ACK_BYTES pulled, and the end's.
    const pulled = acks.at(-1) === total ? acks.slice(0, -1) : acks;
    expect(pulled.length).toBeLessThanOrEqual(Math.floor(total / RELAY_ACK_BYTES));
    for (const [index, offset] of pulled.entries()) expect(offset - (pulled[index - 1] ?? 0)).toBeGreaterThanOrEqual(RELAY_ACK_BYTES);
  });

  it("does not acknowledge what a client has not read, while another request of the hive is answered", async () => {
    const hive = await hiveServing("slow-hive", "slow-model");
    const second = await spawnWorker(hive, "slow-model");
    keepBeating(hive, second, "slow-model");
    const slowResponse = chat("slow-model");
    const slow = await hive.next("request");
    hive.send({ type: "response_head", requestId: slow.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    // A window and a half, more than a hive keeping to its window would send (but within what the
    // queen lets a hive send unacknowledged): the acks show what was pulled.
    const piece = event("y".repeat(16 * 1024));
    const pieces = Math.ceil((1.5 * RELAY_WINDOW_BYTES) / bytesOf(piece));
    for (let seq = 0; seq < pieces; seq += 1) hive.send({ type: "response_chunk", requestId: slow.requestId, seq, data: piece });
    const reader = (await slowResponse).body?.getReader(); // its head, and nothing read
    if (!reader) throw new Error("no body");

    const quickResponse = chat("slow-model");
    const quick = await hive.next("request");
    hive.respond(quick.requestId, 200, `${event("quick")}data: [DONE]\n\n`, "text/event-stream");
    expect(await (await quickResponse).text()).toContain("quick");

    // What workerd's pipe from the object to the client takes in on its own (a chunk or so) is
    // acknowledged; the rest is not. Under a window: a hive that keeps to it stops within two.
    const acknowledgedUnread = Math.max(0, ...takeAcks(hive, slow.requestId));
    expect(acknowledgedUnread).toBeLessThan(RELAY_WINDOW_BYTES);

    // The client reads it all: the acks follow, and every byte arrives in order.
    hive.send({ type: "response_chunk", requestId: slow.requestId, seq: pieces, data: "data: [DONE]\n\n" });
    hive.send({ type: "response_end", requestId: slow.requestId, chunks: pieces + 1 });
    const decoder = new TextDecoder();
    let text = "";
    for (let read = await reader.read(); !read.done; read = await reader.read()) text += decoder.decode(read.value, { stream: true });
    expect(text).toBe(`${piece.repeat(pieces)}data: [DONE]\n\n`);
    await eventually(async () => Math.max(0, ...takeAcks(hive, slow.requestId)) >= pieces * bytesOf(piece) - RELAY_ACK_BYTES);
  }, 20_000); // 1.5 MiB through workerd, on a shared machine

  it("fails the relay of a hive that sends past the window unacknowledged, and tells it to stop", async () => {
    const hive = await hiveServing("flood-hive", "flood-model");
    const response = chat("flood-model");
    const { requestId } = await hive.next("request");
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    const reader = (await response).body?.getReader(); // its head, and nothing read
    if (!reader) throw new Error("no body");
    const piece = event("z".repeat(64 * 1024));
    const pieces = Math.ceil((MAX_UNACKED_BYTES + RELAY_WINDOW_BYTES) / bytesOf(piece));
    // Out of order too: chunks held behind a gap weigh as much as chunks queued.
    for (let seq = pieces; seq >= 1; seq -= 1) hive.send({ type: "response_chunk", requestId, seq, data: piece });
    await eventually(async () => hive.frames.some((frame) => frame.type === "cancel" && frame.requestId === requestId));
    hive.send({ type: "response_chunk", requestId, seq: 0, data: piece });
    const decoder = new TextDecoder();
    let text = "";
    for (let read = await reader.read(); !read.done; read = await reader.read()) text += decoder.decode(read.value, { stream: true });
    // Nothing of it had reached the client (chunk 0 never came before the cut): only the queen's error event.
    expect(text).toContain('"code":"relay_window_exceeded"');
    expect(text.length).toBeLessThan(4096);
  }, 20_000);
});

/** A hive `<name>-hive` with two workers of `<name>-model` beating until the test ends, both known to the queen. */
async function hiveOfTwoWorkers(name: string): Promise<TestHive> {
  const model = `${name}-model`;
  const hive = await TestHive.greeted(`${name}-hive`);
  const workers = [await spawnWorker(hive, model), await spawnWorker(hive, model, 40002)];
  const beating = setInterval(() => {
    for (const workerId of workers) hive.heartbeat(workerId, model);
  }, 100);
  onTestFinished(() => clearInterval(beating));
  const known = async (workerId: string) => (await SELF.fetch(`https://queen/v1/workers/${workerId}`, { headers: auth })).status === 200;
  await eventually(async () => (await Promise.all(workers.map(known))).every(Boolean));
  return hive;
}

/** How the way to a streaming answer breaks: its HiveSession is reset (a deploy), or the hive's socket drops. */
type Break = "reset" | "drop";

/**
 * A streamed chat through a test hive whose way breaks after the client read "Hello": the hive
 * connects again (saying hello in `protocol`), and the test plays the hive's part from there.
 */
async function brokenMidStream(name: string, how: Break, protocol = PROTOCOL_VERSION, halfEvent = false) {
  const { hive, token } = await TestHive.greetedWithToken(name);
  const workerId = await spawnWorker(hive, `${name}-model`);
  let current = hive;
  const beating = setInterval(() => {
    if (current.ws.readyState === WebSocket.OPEN) current.heartbeat(workerId, `${name}-model`);
  }, 100);
  onTestFinished(() => clearInterval(beating));
  await eventually(async () => (await listModelIds()).includes(`${name}-model`));

  const responsePromise = chat(`${name}-model`);
  const first = await hive.next("request");
  hive.send({ type: "response_head", requestId: first.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
  hive.send({ type: "response_chunk", requestId: first.requestId, seq: 0, data: event("Hello") });
  const reader = (await responsePromise).body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  const firstRead = decoder.decode((await reader.read()).value, { stream: true });
  expect(firstRead).toContain("Hello");
  // The hive's last chunk before the break may end inside an event: the client never sees that part.
  if (halfEvent) hive.send({ type: "response_chunk", requestId: first.requestId, seq: 1, data: event(" wor").slice(0, 20) });

  if (how === "reset") {
    // A deploy resets Durable Objects: the object and the hive's socket are gone at once.
    await runInDurableObject(hiveSessionStub(env, name), (_instance, state) => state.abort("deploy")).catch(() => {});
    await eventually(async () => hive.closed !== undefined);
  } else {
    hive.ws.close(1011, "network trouble");
  }
  const back = await TestHive.connect(name, token);
  back.send(helloFrame([], protocol, [workerId]));
  await back.next("welcome");
  current = back;
  /** The rest of the client's stream, read to its end, after what it read before the break. */
  const restOfStream = async () => {
    let raw = firstRead;
    for (let read = await reader.read(); !read.done; read = await reader.read()) raw += decoder.decode(read.value, { stream: true });
    return raw;
  };
  return { first, back, restOfStream, workerId };
}

/** The hive answers a continuation request with " world" and the end. */
async function answerContinuation(back: TestHive): Promise<void> {
  const continuation = await back.next("request", 15_000);
  const asked = JSON.parse(continuation.body) as { messages: Array<{ role: string; content: string }> };
  expect(asked.messages.at(-1)).toEqual({ role: "assistant", content: "Hello" });
  back.send({ type: "response_head", requestId: continuation.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
  back.send({ type: "response_chunk", requestId: continuation.requestId, seq: 0, data: `${event(" world")}data: [DONE]\n\n` });
  back.send({ type: "response_end", requestId: continuation.requestId, chunks: 1 });
}

function expectWhole(raw: string): void {
  expect(contentSoFar(raw)).toBe("Hello world");
  expect(raw).not.toContain('"error"');
  expect(raw.match(/data: \[DONE\]/g)).toHaveLength(1);
}

describe("a stream whose way to the worker breaks mid-answer", () => {
  for (const [how, halfEvent] of [["reset", false], ["drop", false], ["drop", true]] as const) {
    it(`${how === "reset" ? "HiveSession reset" : "hive socket dropped"}${halfEvent ? " inside an event" : ""}: the route resumes the same answer from the end of the client's last event, once the hive is back`, async () => {
      const { first, back, restOfStream, workerId } = await brokenMidStream(`resume-${how}${halfEvent ? "-half" : ""}-hive`, how, PROTOCOL_VERSION, halfEvent);
      const resume = await back.next("resume", 15_000);
      // The client has the "Hello" event, and nothing of the queen's hive_disconnected event counts.
      expect(resume).toEqual({ type: "resume", requestId: first.requestId, offset: bytesOf(event("Hello")) });
      back.send({ type: "response_head", requestId: first.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
      // While the rest is streamed, the worker is still answering this request: its slot is taken
      // (listed again once its hive's heartbeats are back).
      await eventually(async () => (await schedulingOf(workerId)) !== undefined);
      expect(await schedulingOf(workerId)).toEqual({ leases: 1, cooling: false });
      back.send({ type: "response_chunk", requestId: first.requestId, seq: 0, data: `${event(" world")}data: [DONE]\n\n` });
      back.send({ type: "response_end", requestId: first.requestId, chunks: 1 });
      expectWhole(await restOfStream());
      // No continuation was asked of any worker.
      expect(back.frames.filter((frame) => frame.type === "request")).toEqual([]);
      // The break was on the way, not the worker's: its lease is given back without passing it over.
      await eventually(async () => (await schedulingOf(workerId))?.leases === 0);
      expect(await schedulingOf(workerId)).toEqual({ leases: 0, cooling: false });
    }, 30_000);
  }

  it("is continued through the new object when the hive no longer keeps the answer", async () => {
    const { first, back, restOfStream } = await brokenMidStream("unresumable-hive", "reset");
    const resume = await back.next("resume", 15_000);
    back.send({ type: "response_end", requestId: resume.requestId, chunks: 0, error: { code: "resume_unavailable", message: "not kept" } });
    expect(resume.requestId).toBe(first.requestId);
    await answerContinuation(back);
    expectWhole(await restOfStream());
  }, 30_000);

  it("is continued by another worker when its worker is lost, whose lease ends as failed while the continuation holds its own", async () => {
    const lines = captureQueenLog();
    const hive = await hiveOfTwoWorkers("lost-worker");

    const responsePromise = chat("lost-worker-model");
    const first = await hive.next("request");
    hive.send({ type: "response_head", requestId: first.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: first.requestId, seq: 0, data: event("Hello") });
    const text = (await responsePromise).text(); // the client reads on: nothing is read ahead of it
    hive.send({ type: "response_end", requestId: first.requestId, chunks: 1, error: { code: "worker_disconnected", message: "ECONNRESET" } });
    const continuation = await hive.next("request", 15_000);
    expect(continuation.workerId).not.toBe(first.workerId);
    // The lost worker is passed over for a while; the one continuing holds the request's slot.
    await eventually(async () => (await schedulingOf(first.workerId))?.cooling === true);
    expect(await schedulingOf(first.workerId)).toEqual({ leases: 0, cooling: true });
    expect(await schedulingOf(continuation.workerId)).toEqual({ leases: 1, cooling: false });
    hive.send({ type: "response_head", requestId: continuation.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: continuation.requestId, seq: 0, data: `${event(" world")}data: [DONE]\n\n` });
    hive.send({ type: "response_end", requestId: continuation.requestId, chunks: 1 });
    expectWhole(await text);
    await eventually(async () => (await schedulingOf(continuation.workerId))?.leases === 0);
    expect(await schedulingOf(continuation.workerId)).toEqual({ leases: 0, cooling: false });
    // Its log line names both relays, as the hive's and the workers' lines name them, and the worker that finished it.
    const logged = () => lines.filter((line) => line.includes(`"relay_id":"${first.requestId}"`)).map((line) => JSON.parse(line) as Record<string, unknown>);
    await eventually(async () => logged().length === 1);
    expect(logged()[0]).toMatchObject({ relay_ids: [first.requestId, continuation.requestId], worker: continuation.workerId, status: 200, cut: null });
  }, 30_000);

  it("continues at once, never asking its hive to resume, an answer its hive ended with an error inside an event", async () => {
    const hive = await hiveOfTwoWorkers("cut-event");

    const responsePromise = chat("cut-event-model");
    const first = await hive.next("request");
    hive.send({ type: "response_head", requestId: first.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: first.requestId, seq: 0, data: `${event("Hello")}data: {"choi` });
    const text = (await responsePromise).text();
    hive.send({ type: "response_end", requestId: first.requestId, chunks: 1, error: { code: "worker_disconnected", message: "ECONNRESET" } });
    const continuation = await hive.next("request", 15_000);
    expect(continuation.workerId).not.toBe(first.workerId);
    expect(hive.frames.filter((frame) => frame.type === "resume")).toEqual([]);
    hive.send({ type: "response_head", requestId: continuation.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: continuation.requestId, seq: 0, data: `${event(" world")}data: [DONE]\n\n` });
    hive.send({ type: "response_end", requestId: continuation.requestId, chunks: 1 });
    expectWhole(await text);
  }, 30_000);

  it("stops the relay of a worker given up mid-answer (a malformed event) on its hive, and ends its lease as failed", async () => {
    const hive = await TestHive.greeted("malformed-worker-hive");
    const workerId = await spawnWorker(hive, "malformed-worker-model");
    keepBeating(hive, workerId, "malformed-worker-model");
    await eventually(async () => (await listModelIds()).includes("malformed-worker-model"));

    const responsePromise = chat("malformed-worker-model");
    const first = await hive.next("request");
    hive.send({ type: "response_head", requestId: first.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: first.requestId, seq: 0, data: event("Hello") });
    const text = (await responsePromise).text();
    // The worker goes on answering, but its answer can no longer be read: it is given up.
    hive.send({ type: "response_chunk", requestId: first.requestId, seq: 1, data: "data: {not json\n\n" });
    expect(await hive.next("cancel")).toEqual({ type: "cancel", requestId: first.requestId });
    // No other worker serves the model: the client's stream ends with an error event, not a hang.
    expect(await text).toContain("worker_lost");
    await eventually(async () => (await schedulingOf(workerId))?.cooling === true);
    expect(await schedulingOf(workerId)).toEqual({ leases: 0, cooling: true });
  }, 30_000);

  it("is continued, never resumed, for a hive of a protocol before RESUME_PROTOCOL", async () => {
    const { back, restOfStream } = await brokenMidStream("old-protocol-hive", "reset", RESUME_PROTOCOL - 1);
    await answerContinuation(back);
    expectWhole(await restOfStream());
    expect(back.frames.filter((frame) => frame.type === "resume")).toEqual([]);
  }, 30_000);

  it("resumes from byte 0 a non-streamed request whose HiveSession was reset before the worker answered, rather than asking for it again", async () => {
    const { hive, token } = await TestHive.greetedWithToken("reset-early-hive");
    const workerId = await spawnWorker(hive, "reset-early-model");
    let current = hive;
    const beating = setInterval(() => {
      if (current.ws.readyState === WebSocket.OPEN) current.heartbeat(workerId, "reset-early-model");
    }, 100);
    onTestFinished(() => clearInterval(beating));
    await eventually(async () => (await listModelIds()).includes("reset-early-model"));

    const responsePromise = SELF.fetch("https://queen/v1/chat/completions", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ model: "reset-early-model", messages: [{ role: "user", content: "hi" }] }),
    });
    const asked = await hive.next("request");
    await runInDurableObject(hiveSessionStub(env, "reset-early-hive"), (_instance, state) => state.abort("deploy")).catch(() => {});
    await eventually(async () => hive.closed !== undefined);
    const back = await TestHive.connect("reset-early-hive", token);
    back.send(helloFrame([], PROTOCOL_VERSION, [workerId]));
    await back.next("welcome");
    current = back;

    expect(await back.next("resume", 15_000)).toEqual({ type: "resume", requestId: asked.requestId, offset: 0 });
    back.respond(asked.requestId, 200, JSON.stringify({ answer: "the worker's, generated once" }));
    const response = await responsePromise;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ answer: "the worker's, generated once" });
    expect(back.frames.filter((frame) => frame.type === "request")).toEqual([]);
  }, 30_000);

  it("refuses to resume a relay still running in its HiveSession, and cancels it: the hive's numbering of it would mix with the resume's", async () => {
    const hive = await hiveServing("still-running-hive", "still-running-model");
    const responsePromise = chat("still-running-model");
    const first = await hive.next("request");
    hive.send({ type: "response_head", requestId: first.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: first.requestId, seq: 0, data: event("Hello") });
    const response = await responsePromise;

    const refused = answerResponse(await hiveSessionStub(env, "still-running-hive").resume(first.requestId, bytesOf(event("Hello")), 1000, 1000));
    expect(relayFailureOf(refused)).toBe("resume_unavailable");
    expect(await hive.next("cancel")).toEqual({ type: "cancel", requestId: first.requestId });
    expect(hive.frames.filter((frame) => frame.type === "resume")).toEqual([]);
    // The cancelled relay is lost to the route, which finds no other worker: the client's stream ends with an error event.
    expect(await response.text()).toContain("worker_lost");
  }, 30_000);
});
