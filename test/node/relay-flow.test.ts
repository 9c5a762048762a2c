// Relay flow control for real: queen in workerd, a hive process (behind a TCP proxy that can cut
// its socket), two worker processes of the tiny model. Streams through the queen carry exactly
// what the same request made direct to a worker does, under concurrency; a client that stops
// reading a large answer holds the hive to a window of it (relay-flow.ts) while other requests of
// the hive are answered; and a stream whose hive socket drops mid-answer reaches its client whole,
// resumed from what the hive kept of it.
import { once } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hiveKeyPath, WorkerSecrets } from "../../hive/workers/worker-secrets.js";
import { writeTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";
import { contentSoFar } from "../support/sse-streams.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

const HIVE = "flow-hive";
/** The tiny model with 256 values a token, for an embeddings answer bigger than loopback TCP buffers. */
const WIDE_MODEL = "rbee-tiny-wide";

describe("relay flow control through a real hive and workers", () => {
  let cloud: LocalCloud;
  let proxy: TcpProxy | undefined;
  let direct: { id: string; port: number };
  let secrets: WorkerSecrets;

  beforeAll(async () => {
    cloud = await startLocalCloud({
      heartbeatIntervalMs: 1000,
      hiveName: HIVE,
      // The hive reaches the queen through a proxy that can cut its socket.
      hiveVia: async (queenUrl) => {
        proxy = await TcpProxy.start(Number(new URL(queenUrl).port));
        return `http://127.0.0.1:${proxy.port}`;
      },
    });
    const workers = [];
    for (let n = 0; n < 2; n += 1) workers.push(await cloud.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: cloud.modelSource }));
    for (const worker of workers) await cloud.client.waitForWorkerReady(worker.id, 60_000);
    direct = workers[0] as { id: string; port: number };
    secrets = await WorkerSecrets.load(hiveKeyPath(cloud.runDir, HIVE));
  }, 120_000);

  afterAll(async () => {
    await cloud?.stop();
    await proxy?.close();
  });

  // Greedy: under concurrency llama.cpp's batched arithmetic varies with the batch's make-up, which
  // can flip a sampled draw; the argmax of the tiny model's logits does not move (bench/streams.ts).
  function chatBody(n: number, maxTokens: number): Record<string, unknown> {
    return { model: TINY_MODEL, messages: [{ role: "user", content: `Tell me story number ${n}.` }], temperature: 0, max_tokens: maxTokens, stream: true };
  }

  function viaQueen(path: string, body: Record<string, unknown>): Promise<Response> {
    return fetch(`${cloud.queen.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  /**
   * A streaming answer through the queen. On a machine loaded enough that both workers' 1 s
   * heartbeats lapse (or the hive's socket is dropped as silent, and it reconnects within its 5 s
   * spread), the queen refuses meanwhile: this file is about the relay, so such a refusal is asked
   * again (and printed), for up to 12 s, rather than failed.
   */
  async function streamingAnswer(body: Record<string, unknown>): Promise<Response> {
    for (let attempt = 1; ; attempt += 1) {
      const response = await viaQueen("/v1/chat/completions", body);
      if (response.status === 200 || attempt === 12) {
        expect(response.status).toBe(200);
        return response;
      }
      console.warn(`attempt ${attempt}: the queen answered ${response.status}: ${await response.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  /** The same request straight to a worker's loopback port, as the hive makes it. */
  async function directText(body: Record<string, unknown>): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${direct.port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.secretFor(direct.id)}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return contentSoFar(await response.text());
  }

  it("streams 16 answers at once, each whole and in order: the text of the same request made direct", async () => {
    const bodies = Array.from({ length: 16 }, (_, n) => chatBody(n, 48));
    const through = await Promise.all(bodies.map(async (body) => contentSoFar(await (await viaQueen("/v1/chat/completions", body)).text())));
    for (const [n, body] of bodies.entries()) {
      expect(through[n]?.length).toBeGreaterThan(0);
      expect(through[n], `stream ${n}`).toBe(await directText(body));
    }
  }, 120_000);

  it("stops reading the worker for a client that stops reading, answers others meanwhile, and delivers the whole answer once it reads", async () => {
    const logFrom = cloud.hiveLog.length;
    const newLines = () => cloud.hiveLog.slice(logFrom);
    /** The first new hive line that `matches`, once there is one. */
    const lineWhere = async (matches: (line: string) => boolean, what: string): Promise<string> => {
      await waitUntil(() => newLines().some(matches), 60_000, what);
      return newLines().find(matches) ?? "";
    };
    const slowAnswerLine = (line: string) => line.includes("relayed request") && line.includes('"path":"/v1/embeddings"');
    // Embeddings of 2,048 inputs from a model with 256 values a token: ~10 MB of JSON. It must be
    // far more than a window and what loopback TCP takes in: the queen's send buffer alone may
    // grow to net.ipv4.tcp_wmem's ceiling (4 MiB here), and the tiny model's ~2.6 MB answer fitted.
    const widePath = join(cloud.dir, `${WIDE_MODEL}.gguf`);
    await writeTinyLlamaGguf(widePath, { embeddingLength: 256 });
    const wide = await cloud.client.spawnWorker({ hive: HIVE, model: WIDE_MODEL, source: pathToFileURL(widePath).href });
    await cloud.client.waitForWorkerReady(wide.id, 60_000);
    const slow = httpRequest(`${cloud.queen.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${cloud.apiKey}`, "content-type": "application/json" },
    });
    // The client reads nothing, not even the head, until the hive has paused.
    const [socket] = (await once(slow, "socket")) as [Socket];
    socket.pause();
    slow.end(JSON.stringify({ model: WIDE_MODEL, input: Array.from({ length: 2048 }, (_, n) => `${n}`) }));
    const pausedLine = await lineWhere((line) => line.includes("paused reading the worker"), "the hive to stop reading the worker");
    const unacked = (JSON.parse(pausedLine) as { unacked_bytes: number }).unacked_bytes;
    expect(unacked).toBeGreaterThanOrEqual(RELAY_WINDOW_BYTES);
    expect(unacked).toBeLessThan(RELAY_WINDOW_BYTES + 256 * 1024); // a window and the last read

    // Other requests of the same hive go on meanwhile.
    const others = await Promise.all([0, 1, 2, 3].map(async (n) => contentSoFar(await (await streamingAnswer(chatBody(100 + n, 16))).text())));
    for (const text of others) expect(text.length).toBeGreaterThan(0);
    // (Whether the slow answer is still held by now is not the relay's to say: the client's socket
    // and workerd's pipe to it take in the last megabyte of this 2 MB answer. That acks follow only
    // what was pulled is asserted where nothing else buffers: test/queen/relay-flow.test.ts.)

    // The client reads on: the whole answer arrives, and the hive never sent far past the window.
    const responded = once(slow, "response") as Promise<[IncomingMessage]>;
    socket.resume();
    const [response] = await responded;
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const answer = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data: Array<{ index: number; embedding: number[] }> };
    expect(answer.data.map((item) => item.index)).toEqual(Array.from({ length: 2048 }, (_, n) => n));
    expect(answer.data[0]?.embedding).toHaveLength(256);
    const endLine = await lineWhere(slowAnswerLine, "the hive's line for the slow answer");
    const ended = JSON.parse(endLine) as { outcome: string; flow_pauses: number; max_unacked_bytes: number };
    expect(ended.outcome).toBe("answered");
    expect(ended.flow_pauses).toBeGreaterThanOrEqual(1);
    expect(ended.max_unacked_bytes).toBeLessThan(RELAY_WINDOW_BYTES + 256 * 1024);
  }, 120_000);

  it("keeps a stream whole when the hive's socket drops mid-answer: the hive keeps the answer, and the queen resumes it once the hive is back", async () => {
    const logFrom = cloud.hiveLog.length;
    const body = chatBody(300, 1000);
    const response = await streamingAnswer(body);
    const reader = response.body?.getReader();
    if (!reader) throw new Error("no body");
    const decoder = new TextDecoder();
    let raw = "";
    while (contentSoFar(raw).length === 0) {
      const read = await reader.read();
      // An answer that ends before any text would spin this loop forever (a done read resolves at once).
      if (read.done) throw new Error(`the stream ended before any text: ${raw}`);
      raw += decoder.decode(read.value, { stream: true });
    }
    expect(proxy?.cut()).toBeGreaterThan(0);
    for (let read = await reader.read(); !read.done; read = await reader.read()) raw += decoder.decode(read.value, { stream: true });
    expect(raw).toContain("data: [DONE]");
    expect(raw).not.toContain('"error"');
    // Every token once, in order: the very text of the same request made direct.
    expect(contentSoFar(raw)).toBe(await directText(body));
    // The worker generated it once: the hive resumed the answer its socket had carried, through its
    // next socket. (The hive logs a relay just after its answer leaves: wait for the line.)
    await waitUntil(() => cloud.hiveLog.slice(logFrom).some((line) => line.includes("relayed request") && line.includes('"outcome":"answered"')), 10_000, "the resumed relay's line");
    const newLines = cloud.hiveLog.slice(logFrom);
    expect(newLines.filter((line) => line.includes("queen welcomed")).length).toBeGreaterThanOrEqual(1);
    const resumed = newLines.filter((line) => line.includes("resumed request"));
    expect(resumed).toHaveLength(1);
    // (Only this request's lines: a relay an earlier test left open is detached by the cut too.)
    const requestId = /"request_id":"(req_\w+)"/.exec(resumed[0] ?? "")?.[1];
    expect(requestId).toBeDefined();
    const relayed = newLines.filter((line) => line.includes("relayed request") && line.includes(`"request_id":"${requestId}"`));
    expect(relayed).toHaveLength(1);
    expect(relayed[0]).toContain('"outcome":"answered"');
  }, 90_000);
});
