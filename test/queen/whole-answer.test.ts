// HiveSession.relay hands a non-streamed answer back as text when its head, body and end came in
// one message (as the hive sends a short answer: one batch), and as a streamed Response otherwise:
// an answer sent frame by frame, an event stream, a body longer than MAX_WHOLE_ANSWER_CHARS, or
// one that ended in an error after its head. Through the real HiveSession in workerd, over its RPC.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hiveSessionStub } from "../../queen/hive-session/stub.js";
import { answerResponse, MAX_WHOLE_ANSWER_CHARS } from "../../queen/hive-session/whole-answer.js";
import { relayFailureOf } from "../../queen/scheduling/failover.js";
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import { TestHive } from "./hive-socket.js";

type Frame = Extract<HiveToQueenFrame, { type: "response_head" | "response_chunk" | "response_end" }>;

/** Relays one request through `hiveName`'s HiveSession; the test hive answers it with `frames(requestId)`, batched or one message each. */
async function relayAnswered(hiveName: string, frames: (requestId: string) => Frame[], batched: boolean) {
  const hive = await TestHive.greeted(hiveName);
  const requestId = `req_${crypto.randomUUID().replaceAll("-", "")}`;
  // An RPC call goes out once its result is asked for.
  const relaying = Promise.resolve(hiveSessionStub(env, hiveName).relay({ requestId, workerId: "wrk_whole", port: 40001, path: "/v1/chat/completions", body: "{}" }, hiveName));
  await hive.next("request");
  if (batched) hive.send({ type: "batch", frames: frames(requestId) });
  else for (const frame of frames(requestId)) hive.send(frame);
  return relaying;
}

const json = { "content-type": "application/json" };
const answerOf = (text: string) => (requestId: string): Frame[] => [
  { type: "response_head", requestId, status: 200, headers: json },
  { type: "response_chunk", requestId, seq: 0, data: text.slice(0, 5) },
  { type: "response_chunk", requestId, seq: 1, data: text.slice(5) },
  { type: "response_end", requestId, chunks: 2 },
];

describe("a relayed answer handed back whole", () => {
  it("is text, not a stream, when its head, body and end came in one message", async () => {
    const answer = await relayAnswered("whole-batch-hive", answerOf('{"answer":"whole"}'), true);
    expect(answer).not.toBeInstanceOf(Response);
    expect(answer).toEqual({ status: 200, headers: json, text: '{"answer":"whole"}' });
    const response = answerResponse(answer);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.text()).toBe('{"answer":"whole"}');
  });

  it("is a stream when its frames came one message each, and reads the same", async () => {
    const answer = await relayAnswered("whole-apart-hive", answerOf('{"answer":"apart"}'), false);
    expect(answer).toBeInstanceOf(Response);
    expect(await answerResponse(answer).text()).toBe('{"answer":"apart"}');
  });

  it("is a stream for an event stream, however its frames came", async () => {
    const events = (requestId: string): Frame[] => [
      { type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } },
      { type: "response_chunk", requestId, seq: 0, data: "data: [DONE]\n\n" },
      { type: "response_end", requestId, chunks: 1 },
    ];
    const answer = await relayAnswered("whole-events-hive", events, true);
    expect(answer).toBeInstanceOf(Response);
    expect(await answerResponse(answer).text()).toBe("data: [DONE]\n\n");
  });

  it("is a stream for a body longer than the limit, read in full", async () => {
    const long = "x".repeat(MAX_WHOLE_ANSWER_CHARS + 1);
    const answer = await relayAnswered("whole-long-hive", answerOf(long), true);
    expect(answer).toBeInstanceOf(Response);
    expect((await answerResponse(answer).text()).length).toBe(long.length);
  });

  it("is the relay's failure when the answer ended in an error before its head or in the message of its head, and a failing stream after it", async () => {
    const before = (requestId: string): Frame[] => [{ type: "response_end", requestId, chunks: 0, error: { code: "worker_unreachable", message: "connect ECONNREFUSED" } }];
    const refused = answerResponse(await relayAnswered("whole-refused-hive", before, true));
    expect(relayFailureOf(refused)).toBe("worker_unreachable");
    const after = (requestId: string): Frame[] => [
      { type: "response_head", requestId, status: 200, headers: json },
      { type: "response_chunk", requestId, seq: 0, data: '{"ans' },
      { type: "response_end", requestId, chunks: 1, error: { code: "worker_disconnected", message: "stopped mid-response" } },
    ];
    // In one message with its head: the client has nothing of it yet, so the relay failed (and may move to another worker).
    expect(relayFailureOf(answerResponse(await relayAnswered("whole-broken-hive", after, true)))).toBe("worker_disconnected");
    // In a message after its head: the body fails as it is read, or, where the runtime handed this
    // object that message before the relay's caller resumed (seen under load), the relay failed
    // before anything reached the client. Never an answer that reads as whole.
    const broken = answerResponse(await relayAnswered("whole-broken-later-hive", after, false));
    if (relayFailureOf(broken) === undefined) await expect(broken.text()).rejects.toThrow();
    else expect(relayFailureOf(broken)).toBe("worker_disconnected");
  });
});
