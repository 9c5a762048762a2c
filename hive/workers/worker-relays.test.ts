// WorkerRelays against a real HTTP server on loopback standing in for a worker: answers come
// back as frames in order, a cancel or a stop aborts the request on the worker, the worker's
// secret and the request id go with each request, and a port that is not the named worker's live one is never
// connected to. Flow control: no more than a window goes unacknowledged by the queen, and the
// relay goes on as acks come. A dropped queen socket detaches the relays: each goes on unsent
// and is resumed from the offset the queen asks, or aborted on the worker when not resumed; a
// finished answer with a long rest unacknowledged is kept until the queen acknowledges it.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogFields } from "../../shared/log/json-log.js";
import { STREAM_WRITE_INTERVAL_HEADER } from "../../shared/openai/inference-headers.js";
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import { RELAY_END_ACK_BYTES, RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";
import { waitUntil } from "../../shared/wait-until.js";
import { fakeHeartbeat } from "../../test/support/fake-heartbeat.js";
import { FLUSH_TICK } from "./flush-tick.js";
import { WorkerReadiness } from "./worker-readiness.js";
import { WorkerRelays } from "./worker-relays.js";

/**
 * A stand-in worker: `/v1/answer` streams three parts, `/v1/hang` sends one and never ends, `/v1/crash` drops the connection unanswered,
 * `/v1/big` sends BIG_BYTES as fast as it is read, `/v1/endless` goes on until the client goes.
 */
let worker: Server;
let port: number;
/** How many requests the worker saw closed by the client before it answered them in full. */
let abortedOnWorker: number;
/** The Authorization header of every request the worker saw. */
let authorizations: Array<string | undefined>;
/** The X-Request-Id header of every request the worker saw. */
let requestIds: Array<string | undefined>;
/** The write interval every request asked the worker for. */
let writeIntervals: Array<string | undefined>;

const WORKER_ID = "wrk_relay1";

beforeEach(async () => {
  abortedOnWorker = 0;
  authorizations = [];
  requestIds = [];
  writeIntervals = [];
  worker = createServer((request, response) => {
    authorizations.push(request.headers.authorization);
    requestIds.push(request.headers["x-request-id"]?.toString());
    writeIntervals.push(request.headers[STREAM_WRITE_INTERVAL_HEADER]?.toString());
    response.on("close", () => {
      if (!response.writableEnded) abortedOnWorker++;
    });
    if (request.url === "/v1/crash") {
      // Took the request, then died before answering (a prompt that crashes the engine).
      request.socket.destroy();
      return;
    }
    if (request.url === "/v1/json-late") {
      // Headers flushed on their own, then the body a while later.
      response.writeHead(200, { "content-type": "application/json" });
      response.flushHeaders();
      setTimeout(() => response.end('{"ok":true}'), LATE_MS);
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "x-internal": "not forwarded" });
    if (request.url === "/v1/late-first") {
      response.flushHeaders();
      setTimeout(() => response.end("data: first\n\n"), LATE_MS);
    } else if (request.url === "/v1/empty") response.end();
    else if (request.url === "/v1/dies") {
      response.flushHeaders();
      setTimeout(() => response.socket?.destroy(), LATE_MS);
    } else if (request.url === "/v1/answer") void streamParts(response, ["data: one\n\n", "data: two\n\n", "data: three\n\n"]);
    else if (request.url === "/v1/long") void streamParts(response, LONG_EVENTS);
    else if (request.url === "/v1/big") void writeBig(response, BIG_BYTES);
    else if (request.url === "/v1/endless") void writeBig(response, Number.POSITIVE_INFINITY);
    else response.write("data: first\n\n");
  });
  await new Promise<void>((resolve) => worker.listen(0, "127.0.0.1", resolve));
  port = (worker.address() as AddressInfo).port;
});

afterEach(async () => {
  worker.closeAllConnections();
  await new Promise((resolve) => worker.close(resolve));
});

/** What `/v1/long` streams: three events whose whole is past RELAY_END_ACK_BYTES, as a long answer's rest is. */
const LONG_EVENTS = ["one", "two", "three"].map((word) => `data: ${word} ${"x".repeat(RELAY_END_ACK_BYTES / 2)}\n\n`);
/** How long the stand-in worker's late routes wait after their headers, ms. */
const LATE_MS = 150;

/** Three windows' worth: a relay that never hears an ack must stop well before the end. */
const BIG_BYTES = 3 * RELAY_WINDOW_BYTES;
const BIG_PIECE = "é".repeat(8 * 1024); // 16 KiB of two-byte characters: the window counts bytes, not characters

/** Writes `bytes`, waiting for the socket to drain as a real server does; counts what it wrote. */
let bigWritten = 0;
async function writeBig(response: ServerResponse, bytes: number): Promise<void> {
  bigWritten = 0;
  while (bigWritten < bytes) {
    const drained = response.write(BIG_PIECE);
    bigWritten += Buffer.byteLength(BIG_PIECE);
    if (!drained) await new Promise((resolve) => response.once("drain", resolve));
    if (response.destroyed) return;
  }
  response.end();
}

/** Bytes of the response chunks among `frames`: what the relay sent of the answer. */
function chunkBytes(frames: HiveToQueenFrame[]): number {
  return Buffer.byteLength(frames.flatMap((frame) => (frame.type === "response_chunk" ? [frame.data] : [])).join(""));
}

async function streamParts(response: ServerResponse, parts: string[]): Promise<void> {
  for (const part of parts) {
    response.write(part);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  response.end();
}

/** Relays whose worker WORKER_ID has heartbeated once from `port` (unless `heard` is false). */
function relays(options: { heard?: boolean; heartbeatIntervalMs?: number; resumeGraceMs?: number; resumeAfterWelcomeMs?: number } = {}) {
  const logged: string[] = [];
  const facts: LogFields[] = [];
  const frames: HiveToQueenFrame[] = [];
  const readiness = new WorkerReadiness();
  if (options.heard !== false) readiness.observe(fakeHeartbeat({ workerId: WORKER_ID, port, state: "ready" }));
  const relaying = new WorkerRelays({
    log: (line, fields = {}) => {
      logged.push(line);
      facts.push(fields);
    },
    lastHeard: (workerId) => readiness.lastHeard(workerId),
    secretFor: (workerId) => `secret-of-${workerId}`,
    heartbeatIntervalMs: () => options.heartbeatIntervalMs ?? 60_000,
    ...(options.resumeGraceMs === undefined ? {} : { resumeGraceMs: options.resumeGraceMs }),
    ...(options.resumeAfterWelcomeMs === undefined ? {} : { resumeAfterWelcomeMs: options.resumeAfterWelcomeMs }),
  });
  const send = (frame: HiveToQueenFrame) => frames.push(frame);
  const request = (requestId: string, path: string, target: { workerId?: string; port?: number } = {}) => ({
    requestId,
    workerId: target.workerId ?? WORKER_ID,
    port: target.port ?? port,
    path,
    body: "{}",
  });
  return { relaying, readiness, frames, logged, facts, send, request };
}

describe("WorkerRelays", () => {
  it("relays a worker's answer as head, chunks in order, then an end that counts them", async () => {
    const { relaying, frames, facts, send, request } = relays();
    await relaying.start(request("req_answer", "/v1/answer"), send);
    expect(frames[0]).toEqual({ type: "response_head", requestId: "req_answer", status: 200, headers: { "content-type": "text/event-stream" } });
    const chunks = frames.flatMap((frame) => (frame.type === "response_chunk" ? [frame] : []));
    expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_, index) => index));
    expect(chunks.map((chunk) => chunk.data).join("")).toBe("data: one\n\ndata: two\n\ndata: three\n\n");
    expect(frames.at(-1)).toEqual({ type: "response_end", requestId: "req_answer", chunks: chunks.length });
    expect(relaying.cancel("req_answer")).toBe(false);
    expect(authorizations).toEqual([`Bearer secret-of-${WORKER_ID}`]);
    // The worker's log lines name the request as the queen's do.
    expect(requestIds).toEqual(["req_answer"]);
    // The worker spaces its writes as the hive spaces its frames: text the hive would gather anyway comes in one read.
    expect(writeIntervals).toEqual([String(FLUSH_TICK.baseIntervalMs)]);
    // And so does the hive's one line for it.
    expect(facts).toEqual([
      { request_id: "req_answer", worker: WORKER_ID, port, path: "/v1/answer", status: 200, outcome: "answered", chunks: chunks.length, error: undefined, duration_ms: expect.any(Number) },
    ]);
  });

  it("sends an event stream's head with its first text, not when the worker flushed its headers; other heads at once", async () => {
    const { relaying, request } = relays();
    const sentAt = new Map<string, number>();
    const send = (frame: HiveToQueenFrame) => {
      if (frame.type === "response_head" || frame.type === "response_chunk") sentAt.set(`${frame.requestId} ${frame.type}`, performance.now());
    };
    // Both workers flush their headers, then wait LATE_MS before the body.
    await Promise.all([relaying.start(request("req_stream", "/v1/late-first"), send), relaying.start(request("req_json", "/v1/json-late"), send)]);
    const gap = (requestId: string) => (sentAt.get(`${requestId} response_chunk`) ?? Number.NaN) - (sentAt.get(`${requestId} response_head`) ?? Number.NaN);
    // The stream's head waited for its text and left with it, in the same turn.
    expect(gap("req_stream")).toBeLessThan(5);
    // The JSON answer's head went when it came, the worker's wait before its body.
    expect(gap("req_json")).toBeGreaterThanOrEqual(LATE_MS - 20);
  });

  it("still sends the head of an event stream that ends without any text, and of one whose worker dies first", async () => {
    const { relaying, frames, send, request } = relays();
    await relaying.start(request("req_empty", "/v1/empty"), send);
    expect(frames).toEqual([
      { type: "response_head", requestId: "req_empty", status: 200, headers: { "content-type": "text/event-stream" } },
      { type: "response_end", requestId: "req_empty", chunks: 0 },
    ]);
    frames.length = 0;
    await relaying.start(request("req_dies", "/v1/dies"), send);
    expect(frames).toEqual([
      { type: "response_head", requestId: "req_dies", status: 200, headers: { "content-type": "text/event-stream" } },
      { type: "response_end", requestId: "req_dies", chunks: 0, error: { code: "worker_disconnected", message: expect.stringContaining("stopped mid-response") } },
    ]);
  });

  it("tells a worker that took the request and died before answering from one that could not be connected to", async () => {
    const { relaying, frames, send, request } = relays();
    await relaying.start(request("req_crash", "/v1/crash"), send);
    expect(frames).toEqual([
      { type: "response_end", requestId: "req_crash", chunks: 0, error: { code: "worker_disconnected", message: expect.stringContaining("took the request and closed the connection before answering") } },
    ]);

    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", resolve));
    const gonePort = (gone.address() as AddressInfo).port;
    await new Promise((resolve) => gone.close(resolve));
    const closed = relays();
    closed.readiness.observe(fakeHeartbeat({ workerId: WORKER_ID, port: gonePort, state: "ready" }));
    await closed.relaying.start(closed.request("req_refused", "/v1/answer", { port: gonePort }), closed.send);
    expect(closed.frames).toEqual([
      { type: "response_end", requestId: "req_refused", chunks: 0, error: { code: "worker_unreachable", message: expect.stringMatching(/is unreachable: .*ECONNREFUSED/) } },
    ]);
  });

  it("answers worker_unknown without connecting when the worker never heartbeated to this hive", async () => {
    const { relaying, frames, logged, send, request } = relays({ heard: false });
    await relaying.start(request("req_nobody", "/v1/answer"), send);
    expect(frames).toEqual([{ type: "response_end", requestId: "req_nobody", chunks: 0, error: { code: "worker_unknown", message: expect.stringContaining(WORKER_ID) } }]);
    expect(authorizations).toEqual([]);
    expect(logged[0]).toContain(`refused to relay request req_nobody to worker ${WORKER_ID} on port ${port}`);
  });

  it("answers worker_unknown without connecting when the port is not the one the worker heartbeats", async () => {
    const { relaying, frames, send, request } = relays();
    // Another worker of this hive listens on `port`; the queen names it under the wrong id.
    await relaying.start(request("req_other", "/v1/answer", { workerId: "wrk_elsewhere" }), send);
    // The right worker, but a port it does not say it serves (its old one, taken by someone else).
    await relaying.start(request("req_moved", "/v1/answer", { port: port === 65535 ? port - 1 : port + 1 }), send);
    expect(frames.map((frame) => (frame.type === "response_end" ? frame.error?.code : frame.type))).toEqual(["worker_unknown", "worker_unknown"]);
    expect(authorizations).toEqual([]);
  });

  it("answers worker_unreachable without connecting when the worker went silent, said it stopped or exited", async () => {
    const silent = relays({ heartbeatIntervalMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20)); // more than three 1 ms heartbeat intervals
    await silent.relaying.start(silent.request("req_silent", "/v1/answer"), silent.send);
    expect(silent.frames).toEqual([{ type: "response_end", requestId: "req_silent", chunks: 0, error: { code: "worker_unreachable", message: expect.stringContaining("silent") } }]);

    const stopped = relays();
    stopped.readiness.observe(fakeHeartbeat({ workerId: WORKER_ID, port, state: "stopped" }));
    await stopped.relaying.start(stopped.request("req_stopped", "/v1/answer"), stopped.send);
    expect(stopped.frames).toEqual([{ type: "response_end", requestId: "req_stopped", chunks: 0, error: { code: "worker_unreachable", message: `worker ${WORKER_ID} is stopped` } }]);

    const exited = relays();
    exited.readiness.exited(WORKER_ID);
    await exited.relaying.start(exited.request("req_exited", "/v1/answer"), exited.send);
    expect(exited.frames).toEqual([{ type: "response_end", requestId: "req_exited", chunks: 0, error: { code: "worker_unreachable", message: `worker ${WORKER_ID} exited` } }]);
    expect(authorizations).toEqual([]);
  });

  it("aborts a cancelled request on the worker and sends nothing more for it", async () => {
    const { relaying, frames, logged, send, request } = relays();
    const relayed = relaying.start(request("req_gone", "/v1/hang"), send);
    await waitUntil(() => frames.some((frame) => frame.type === "response_chunk"), 5000, "the first chunk");
    const sentBeforeCancel = frames.length;

    expect(relaying.cancel("req_gone")).toBe(true);
    await relayed;
    await waitUntil(() => abortedOnWorker === 1, 5000, "the worker to see the request aborted");
    expect(frames).toHaveLength(sentBeforeCancel);
    expect(logged, "one line for it, its end's").toEqual([`relayed request req_gone to worker ${WORKER_ID}: cancelled`]);
    expect(relaying.cancel("req_gone")).toBe(false);
  });

  it("asks the worker for the interval its tick will have with the stream on it: longer while many streams are in flight, not whole answers", async () => {
    const { relaying, frames, send, request } = relays();
    const headed = (requestId: string) => frames.some((frame) => frame.type === "response_head" && frame.requestId === requestId);
    // Whole answers still on their way count for nothing.
    const whole = Array.from({ length: 40 }, (_, i) => relaying.start(request(`req_whole${i}`, "/v1/json-late"), send));
    await waitUntil(() => writeIntervals.length === 40, 5000, "every whole answer to reach the worker");
    await relaying.start(request("req_beside_whole", "/v1/answer"), send);
    expect(writeIntervals.at(-1)).toBe(String(FLUSH_TICK.baseIntervalMs));
    await Promise.all(whole);

    // Streams count from their head on: the n-th asks for n ms once that is longer than the base interval.
    const crowd = 40;
    const streams: Array<Promise<void>> = [];
    for (let i = 0; i < crowd; i++) {
      streams.push(relaying.start(request(`req_crowd${i}`, "/v1/hang"), send));
      await waitUntil(() => headed(`req_crowd${i}`), 5000, `stream ${i}'s head`, 2);
    }
    const expected = Array.from({ length: crowd }, (_, i) => String(Math.max(FLUSH_TICK.baseIntervalMs, (i + 1) * FLUSH_TICK.perStreamMs)));
    expect(writeIntervals.slice(-crowd)).toEqual(expected);

    relaying.abortAll();
    await Promise.all(streams);
    await relaying.start(request("req_alone", "/v1/answer"), send);
    expect(writeIntervals.at(-1)).toBe(String(FLUSH_TICK.baseIntervalMs));
  });

  it("says a cancel for a request it does not relay found nothing, and logs nothing", () => {
    const { relaying, logged } = relays();
    expect(relaying.cancel("req_unknown")).toBe(false);
    expect(logged).toEqual([]);
  });

  it("aborts every relay in flight when the hive stops", async () => {
    const { relaying, frames, send, request } = relays();
    const relayed = [relaying.start(request("req_a", "/v1/hang"), send), relaying.start(request("req_b", "/v1/hang"), send)];
    await waitUntil(() => frames.filter((frame) => frame.type === "response_chunk").length === 2, 5000, "a chunk of each");

    relaying.abortAll();
    await Promise.all(relayed);
    await waitUntil(() => abortedOnWorker === 2, 5000, "the worker to see both requests aborted");
    expect(frames.some((frame) => frame.type === "response_end")).toBe(false);
    expect(relaying.cancel("req_a")).toBe(false);
  });

  it("stops reading the worker with a window of bytes unacknowledged, and goes on as the queen acknowledges them", async () => {
    const { relaying, frames, logged, facts, send, request } = relays();
    const relayed = relaying.start(request("req_big", "/v1/big"), send);
    await waitUntil(() => logged.some((line) => line.includes("req_big: paused reading the worker")), 10_000, "the relay to pause");
    // A window, and at most the one read that crossed it.
    expect(chunkBytes(frames)).toBeGreaterThanOrEqual(RELAY_WINDOW_BYTES);
    expect(chunkBytes(frames)).toBeLessThan(RELAY_WINDOW_BYTES + 256 * 1024);
    // Nothing more is read while no ack comes: the worker's writes back up into its socket.
    const writtenWhenPaused = bigWritten;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(chunkBytes(frames)).toBeLessThan(RELAY_WINDOW_BYTES + 256 * 1024);
    expect(bigWritten - writtenWhenPaused).toBeLessThan(RELAY_WINDOW_BYTES);
    expect(frames.some((frame) => frame.type === "response_end")).toBe(false);

    // The queen's client reads on: ack what was sent, each time, until the end.
    while (!frames.some((frame) => frame.type === "response_end")) {
      relaying.ack("req_big", chunkBytes(frames));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await relayed;
    expect(chunkBytes(frames)).toBe(BIG_BYTES);
    const text = frames.flatMap((frame) => (frame.type === "response_chunk" ? [frame.data] : [])).join("");
    expect(text).toBe(BIG_PIECE.repeat(BIG_BYTES / Buffer.byteLength(BIG_PIECE)));
    const ended = facts.at(-1) ?? {};
    expect(ended.flow_pauses).toBeGreaterThanOrEqual(1);
    expect(ended.max_unacked_bytes).toBeLessThan(RELAY_WINDOW_BYTES + 256 * 1024);
  });

  it("relays other answers to their end while one waits for acknowledgements, and a cancel ends the waiting one", async () => {
    const { relaying, frames, logged, send, request } = relays();
    const stalled = relaying.start(request("req_stalled", "/v1/endless"), send);
    await waitUntil(() => logged.some((line) => line.includes("req_stalled: paused reading the worker")), 10_000, "the big answer to pause");
    await relaying.start(request("req_quick", "/v1/answer"), send);
    expect(frames.filter((frame) => frame.type === "response_end").map((frame) => frame.requestId)).toEqual(["req_quick"]);

    expect(relaying.cancel("req_stalled")).toBe(true);
    await stalled;
    await waitUntil(() => abortedOnWorker === 1, 5000, "the worker to see the paused request aborted");
    expect(frames.filter((frame) => frame.type === "response_end").map((frame) => frame.requestId)).toEqual(["req_quick"]);
  });

  it("drops an ack for a request it does not relay, and counts one past what was sent only up to what was", async () => {
    const { relaying, frames, logged, send, request } = relays();
    relaying.ack("req_unknown", 1234);
    const relayed = relaying.start(request("req_over", "/v1/endless"), send);
    await waitUntil(() => logged.some((line) => line.includes("req_over: paused reading the worker")), 10_000, "the relay to pause");
    // A hostile or confused queen acks far ahead: the relay sends one more window, not the rest.
    const sentAtAck = chunkBytes(frames);
    relaying.ack("req_over", Number.MAX_SAFE_INTEGER);
    await waitUntil(() => chunkBytes(frames) >= sentAtAck + RELAY_WINDOW_BYTES, 5000, "a second window");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(chunkBytes(frames) - sentAtAck).toBeLessThan(RELAY_WINDOW_BYTES + 256 * 1024); // a window, and the last read and coalesced text
    relaying.abortAll();
    await relayed;
  });
});

describe("WorkerRelays after the queen socket drops", () => {
  const FIRST_EVENT = "data: one\n\n";

  /** Relays `requestId` to `path` and drops the queen socket once its first chunk went out; `relayed` settles when the worker's answer ends. */
  async function detachedRelay(requestId: string, path: string, options: { resumeGraceMs?: number; resumeAfterWelcomeMs?: number } = {}) {
    const relaying = relays(options);
    const relayed = relaying.relaying.start(relaying.request(requestId, path), relaying.send);
    await waitUntil(() => relaying.frames.some((frame) => frame.type === "response_chunk"), 5000, "the first chunk");
    relaying.relaying.detachAll();
    return { ...relaying, relayed };
  }

  /** Resumes `requestId` from `offset`, and the frames that answer it. */
  function resumeFrames(relaying: WorkerRelays, requestId: string, offset: number): HiveToQueenFrame[] {
    const answered: HiveToQueenFrame[] = [];
    relaying.resume(requestId, offset, (frame) => answered.push(frame));
    return answered;
  }

  it("keeps reading the worker unsent, then sends the rest from the queen's offset, numbered from 0, with the end", async () => {
    const { relaying, frames, logged, relayed } = await detachedRelay("req_detached", "/v1/answer");
    const sentBefore = frames.length;
    await relayed; // the worker's answer ends while the socket is down
    expect(frames).toHaveLength(sentBefore);
    expect(logged.at(-1)).toContain("answered (kept for the queen to resume)");

    const resumed = resumeFrames(relaying, "req_detached", Buffer.byteLength(FIRST_EVENT));
    expect(resumed[0]).toEqual({ type: "response_head", requestId: "req_detached", status: 200, headers: { "content-type": "text/event-stream" } });
    const chunks = resumed.flatMap((frame) => (frame.type === "response_chunk" ? [frame] : []));
    expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_, index) => index));
    expect(chunks.map((chunk) => chunk.data).join("")).toBe("data: two\n\ndata: three\n\n");
    expect(resumed.at(-1)).toEqual({ type: "response_end", requestId: "req_detached", chunks: chunks.length });
    expect(logged.some((line) => line.includes("resumed request req_detached from byte 11"))).toBe(true);
    // Resumed and ended with a short rest: it is forgotten, and a second resume is refused.
    expect(resumeFrames(relaying, "req_detached", 0)).toMatchObject([{ type: "response_end", requestId: "req_detached", chunks: 0, error: { code: "resume_unavailable" } }]);
  });

  it("goes on sending to the new socket when resumed while the worker still answers", async () => {
    const { relaying, relayed } = await detachedRelay("req_live", "/v1/answer");
    const resumed = resumeFrames(relaying, "req_live", 0);
    await relayed;
    const chunks = resumed.flatMap((frame) => (frame.type === "response_chunk" ? [frame] : []));
    expect(chunks.map((chunk) => chunk.data).join("")).toBe(`${FIRST_EVENT}data: two\n\ndata: three\n\n`);
    expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_, index) => index));
    expect(resumed.at(-1)).toEqual({ type: "response_end", requestId: "req_live", chunks: chunks.length });
  });

  it("refuses an offset that is not where an event ends, and aborts that relay on the worker", async () => {
    const { relaying, relayed } = await detachedRelay("req_mid", "/v1/hang");
    expect(resumeFrames(relaying, "req_mid", 4)).toMatchObject([{ type: "response_end", requestId: "req_mid", chunks: 0, error: { code: "resume_unavailable", message: expect.stringContaining("not where an event ends") } }]);
    await relayed;
    await waitUntil(() => abortedOnWorker === 1, 5000, "the worker to see its client gone");
  });

  it("keeps an answer it finished with a long rest unacknowledged until the queen acknowledges it: one whose end was on its way when the socket dropped is resumed", async () => {
    const { relaying, frames, send, request } = relays();
    await relaying.start(request("req_in_transit", "/v1/long"), send);
    expect(frames.at(-1)).toMatchObject({ type: "response_end", requestId: "req_in_transit" });
    relaying.detachAll(); // the end and the last chunks were still in the socket's buffers
    const resumed = resumeFrames(relaying, "req_in_transit", Buffer.byteLength(LONG_EVENTS[0] ?? ""));
    expect(resumed.flatMap((frame) => (frame.type === "response_chunk" ? [frame.data] : [])).join("")).toBe(LONG_EVENTS.slice(1).join(""));
    expect(resumed.at(-1)).toMatchObject({ type: "response_end", requestId: "req_in_transit" });
  });

  it("forgets an answer it finished once the queen acknowledges its long rest, or after the grace without an ack; a short rest at once", async () => {
    const { relaying, send, request } = relays({ resumeGraceMs: 100 });
    const whole = Buffer.byteLength(LONG_EVENTS.join(""));
    await relaying.start(request("req_acked", "/v1/long"), send);
    relaying.ack("req_acked", whole);
    expect(resumeFrames(relaying, "req_acked", 0)).toMatchObject([{ type: "response_end", error: { code: "resume_unavailable" } }]);

    await relaying.start(request("req_never_acked", "/v1/long"), send);
    expect(resumeFrames(relaying, "req_never_acked", whole).at(-1), "kept meanwhile").toMatchObject({ type: "response_end", requestId: "req_never_acked", chunks: 0 });
    await relaying.start(request("req_forgotten", "/v1/long"), send);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resumeFrames(relaying, "req_forgotten", 0)).toMatchObject([{ type: "response_end", error: { code: "resume_unavailable" } }]);

    await relaying.start(request("req_short", "/v1/answer"), send);
    expect(resumeFrames(relaying, "req_short", 0), "a short rest the queen never acknowledges").toMatchObject([{ type: "response_end", error: { code: "resume_unavailable" } }]);
  });

  it("refuses a resume of a request it does not keep", () => {
    const { relaying } = relays();
    expect(resumeFrames(relaying, "req_unknown", 0)).toMatchObject([{ type: "response_end", requestId: "req_unknown", chunks: 0, error: { code: "resume_unavailable" } }]);
  });

  it("aborts a relay on the worker when no resume comes within the grace", async () => {
    const { logged, relayed } = await detachedRelay("req_forsaken", "/v1/hang", { resumeGraceMs: 100 });
    await relayed;
    await waitUntil(() => abortedOnWorker === 1, 5000, "the worker to see its client gone");
    expect(logged.some((line) => line.includes("request req_forsaken: not resumed within 0.1 s"))).toBe(true);
  });

  it("gives an answer nobody resumes a short wait once the queen welcomes the hive back: its client is gone", async () => {
    const { logged, relayed, relaying } = await detachedRelay("req_unwanted", "/v1/hang", { resumeGraceMs: 60_000, resumeAfterWelcomeMs: 100 });
    relaying.queenBack();
    await relayed; // aborted
    await waitUntil(() => abortedOnWorker === 1, 5000, "the worker to see its client gone");
    expect(logged.some((line) => line.includes("request req_unwanted: not resumed within 0.1 s of the queen's welcome"))).toBe(true);
  });
});
