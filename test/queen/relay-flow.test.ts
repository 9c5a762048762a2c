// Relay flow control and resume inside workerd, with a test hive on the real socket route: the
// queen acknowledges only what its client pulled, in batches; an answer whose hive socket drops
// pauses and goes on from the byte it reached once the hive is back; an answer whose HiveSession
// is reset mid-stream is resumed by the route through the new one.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RELAY_ACK_BYTES } from "../../shared/protocol/relay-flow.js";
import { auth, contentChunk, eventually, helloFrame, listModelIds, TestHive } from "./hive-socket.js";
import { spawnWorker } from "./job-client.js";

function chat(model: string): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
}

/** A registered, greeted hive with one ready worker of `model`, and its token for reconnecting. */
async function hiveServing(name: string, model: string): Promise<{ hive: TestHive; token: string; workerId: string }> {
  const token = await TestHive.register(name);
  const hive = await TestHive.connect(name, token);
  hive.send(helloFrame());
  await hive.next("welcome");
  const workerId = await spawnWorker(hive, model);
  hive.heartbeat(workerId, model);
  await eventually(async () => (await listModelIds()).includes(model));
  return { hive, token, workerId };
}

const event = (content: string) => `data: ${contentChunk(content)}\n\n`;

describe("relay flow control", () => {
  it("acknowledges what the client pulled every RELAY_ACK_BYTES and at the end, not per chunk", async () => {
    const { hive } = await hiveServing("ack-hive", "ack-model");
    const responsePromise = chat("ack-model");
    const { requestId } = await hive.next("request");
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    const piece = event("x".repeat(1000));
    const chunks = 200;
    for (let seq = 0; seq < chunks; seq += 1) hive.send({ type: "response_chunk", requestId, seq, data: piece });
    hive.send({ type: "response_chunk", requestId, seq: chunks, data: "data: [DONE]\n\n" });
    hive.send({ type: "response_end", requestId, chunks: chunks + 1 });
    const text = await (await responsePromise).text();
    const total = new TextEncoder().encode(text).byteLength;
    expect(total).toBe(chunks * piece.length + "data: [DONE]\n\n".length);
    const acks: number[] = [];
    await eventually(async () => {
      while (hive.frames.some((frame) => frame.type === "response_ack")) acks.push((await hive.next("response_ack")).offset);
      return acks.at(-1) === total;
    });
    expect(acks.length).toBeLessThanOrEqual(Math.ceil(total / RELAY_ACK_BYTES) + 1);
    expect(acks).toEqual([...acks].sort((a, b) => a - b));
  });

  it("does not acknowledge what a client has not read, while another request of the hive is answered", async () => {
    const { hive } = await hiveServing("slow-hive", "slow-model");
    const second = await spawnWorker(hive, "slow-model");
    hive.heartbeat(second, "slow-model");
    const slowResponse = chat("slow-model");
    const slow = await hive.next("request");
    hive.send({ type: "response_head", requestId: slow.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    const piece = event("y".repeat(16 * 1024));
    const pieces = 256; // 4 MiB: more than the queen's own stream buffers take in
    for (let seq = 0; seq < pieces; seq += 1) hive.send({ type: "response_chunk", requestId: slow.requestId, seq, data: piece });
    await slowResponse; // its head, and nothing read

    const quickResponse = chat("slow-model");
    const quick = await hive.next("request");
    hive.respond(quick.requestId, 200, `${event("quick")}data: [DONE]\n\n`, "text/event-stream");
    expect(await (await quickResponse).text()).toContain("quick");

    const acked = hive.frames.flatMap((frame) => (frame.type === "response_ack" && frame.requestId === slow.requestId ? [frame.offset] : []));
    expect(Math.max(0, ...acked)).toBeLessThan(pieces * piece.length);
  }, 20_000); // 4 MiB through workerd, on a shared machine

  it("pauses an answer whose hive socket dropped and goes on from the byte it reached once the hive is back", async () => {
    const { hive, token, workerId } = await hiveServing("blip-hive", "blip-model");
    const stream = await streamStarted(hive, "blip-model");
    hive.ws.close(3001, "network blip"); // not 1000/1001: the hive may come back

    const back = await TestHive.connect("blip-hive", token);
    back.send(helloFrame([], undefined, [workerId]));
    const resume = await back.next("resume");
    expect(resume).toEqual({ type: "resume", requestId: stream.requestId, resumes: stream.requestId, offset: new TextEncoder().encode(event("one")).byteLength });
    finish(back, resume.requestId);
    expect(await stream.text()).toBe(event("one") + event("two") + "data: [DONE]\n\n");
  });

  it("resumes an answer through a new HiveSession after the old one was reset mid-stream", async () => {
    const { hive, token, workerId } = await hiveServing("reset-hive", "reset-model");
    const stream = await streamStarted(hive, "reset-model");
    const reset = await SELF.fetch("https://queen/v1/hives/reset-hive/session/reset", { method: "POST", headers: auth });
    expect(reset.status).toBe(200);
    const text = stream.text();
    // The reset drops the hive's socket, as a deploy does; the hive reconnects, and the route asks
    // the new object for the rest from the byte its client has.
    await eventually(async () => hive.closed !== undefined);
    const back = await TestHive.connect("reset-hive", token);
    back.send(helloFrame([], undefined, [workerId]));
    const resume = await back.next("resume", 10_000);
    expect(resume.resumes).toBe(stream.requestId);
    expect(resume.offset).toBe(new TextEncoder().encode(event("one")).byteLength);
    finish(back, resume.requestId);
    expect(await text).toBe(event("one") + event("two") + "data: [DONE]\n\n");
  }, 20_000);
});

/** A streamed chat relayed to `hive`, answered with the event "one", which its client has read. */
async function streamStarted(hive: TestHive, model: string): Promise<{ requestId: string; text: () => Promise<string> }> {
  const responsePromise = chat(model);
  const { requestId } = await hive.next("request");
  hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
  hive.send({ type: "response_chunk", requestId, seq: 0, data: event("one") });
  const reader = (await responsePromise).body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  const first = decoder.decode((await reader.read()).value, { stream: true });
  return {
    requestId,
    /** Everything the client reads, to the end of the body. */
    text: async () => {
      let text = first;
      for (let read = await reader.read(); !read.done; read = await reader.read()) text += decoder.decode(read.value, { stream: true });
      return text;
    },
  };
}

/** The rest of the answer, as a resumed hive sends it under `requestId`: "two", then [DONE]. */
function finish(hive: TestHive, requestId: string): void {
  hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
  hive.send({ type: "response_chunk", requestId, seq: 0, data: event("two") });
  hive.send({ type: "response_chunk", requestId, seq: 1, data: "data: [DONE]\n\n" });
  hive.send({ type: "response_end", requestId, chunks: 2 });
}
