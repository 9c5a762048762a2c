// Relay flow control inside workerd, with a test hive on the real socket route: the queen
// acknowledges to the hive only what its client's side pulled, in batches of RELAY_ACK_BYTES, so
// a client that stops reading stops the acks (and a real hive then stops at its window), while
// other requests of the same hive are answered. And a stream whose HiveSession is reset mid-answer
// (as a deploy resets Durable Objects) reaches its client whole.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it, onTestFinished } from "vitest";
import { RELAY_ACK_BYTES, RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";
import { hiveSessionStub } from "../../queen/hive-session/stub.js";
import { contentSoFar } from "../support/sse-streams.js";
import { auth, contentChunk, eventually, helloFrame, listModelIds, TestHive } from "./hive-socket.js";
import { hiveServing, spawnWorker } from "./job-client.js";

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
    const acks = takeAcks(hive, requestId);
    // Batched: at most one ack per RELAY_ACK_BYTES (none once the hive has sent its end: it needs no more).
    expect(acks.length).toBeLessThanOrEqual(Math.floor(total / RELAY_ACK_BYTES));
    for (const [index, offset] of acks.entries()) expect(offset - (acks[index - 1] ?? 0)).toBeGreaterThanOrEqual(RELAY_ACK_BYTES);
    expect(acks.at(-1)).toBeLessThanOrEqual(total);
  });

  it("does not acknowledge what a client has not read, while another request of the hive is answered", async () => {
    const hive = await hiveServing("slow-hive", "slow-model");
    const second = await spawnWorker(hive, "slow-model");
    const beating = setInterval(() => hive.heartbeat(second, "slow-model"), 100);
    onTestFinished(() => clearInterval(beating));
    const slowResponse = chat("slow-model");
    const slow = await hive.next("request");
    hive.send({ type: "response_head", requestId: slow.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    // Four windows, more than a hive keeping to its window would send: the acks show what was pulled.
    const piece = event("y".repeat(16 * 1024));
    const pieces = Math.ceil((4 * RELAY_WINDOW_BYTES) / bytesOf(piece));
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
  }, 20_000); // 4 MiB through workerd, on a shared machine
});

describe("a HiveSession reset mid-stream", () => {
  it("leaves the client's stream whole: the route continues it through the new object once the hive is back", async () => {
    const token = await TestHive.register("reset-hive");
    const hive = await TestHive.connect("reset-hive", token);
    hive.send(helloFrame());
    await hive.next("welcome");
    const workerId = await spawnWorker(hive, "reset-model");
    let current = hive;
    const beating = setInterval(() => {
      if (current.ws.readyState === WebSocket.OPEN) current.heartbeat(workerId, "reset-model");
    }, 100);
    onTestFinished(() => clearInterval(beating));
    await eventually(async () => (await listModelIds()).includes("reset-model"));

    const responsePromise = chat("reset-model");
    const first = await hive.next("request");
    hive.send({ type: "response_head", requestId: first.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: first.requestId, seq: 0, data: event("Hello") });
    const reader = (await responsePromise).body?.getReader();
    if (!reader) throw new Error("no body");
    const decoder = new TextDecoder();
    let raw = decoder.decode((await reader.read()).value, { stream: true });
    expect(raw).toContain("Hello");

    // A deploy resets Durable Objects: the object and the hive's socket are gone at once.
    await runInDurableObject(hiveSessionStub(env, "reset-hive"), (_instance, state) => state.abort("deploy")).catch(() => {});
    await eventually(async () => hive.closed !== undefined);
    const back = await TestHive.connect("reset-hive", token);
    back.send(helloFrame([], undefined, [workerId]));
    await back.next("welcome");
    current = back;

    // The route asks the worker, through the new object, for the rest after the text sent.
    const continuation = await back.next("request", 15_000);
    const asked = JSON.parse(continuation.body) as { messages: Array<{ role: string; content: string }> };
    expect(asked.messages.at(-1)).toEqual({ role: "assistant", content: "Hello" });
    back.send({ type: "response_head", requestId: continuation.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    back.send({ type: "response_chunk", requestId: continuation.requestId, seq: 0, data: `${event(" world")}data: [DONE]\n\n` });
    back.send({ type: "response_end", requestId: continuation.requestId, chunks: 1 });
    for (let read = await reader.read(); !read.done; read = await reader.read()) raw += decoder.decode(read.value, { stream: true });
    expect(contentSoFar(raw)).toBe("Hello world");
    expect(raw).not.toContain('"error"');
    expect(raw.match(/data: \[DONE\]/g)).toHaveLength(1);
  }, 30_000);
});
