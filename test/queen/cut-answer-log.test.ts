// An answer whose head said 200 but whose body stopped short is logged as such: the request's log
// line names why it was cut (`cut`), so an operator can tell a whole answer from one its client
// left, one the worker's error ended, or one that broke on its way, though all of them say 200.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createKey } from "./admin-api.js";
import { contentChunk, eventually, type TestHive } from "./hive-socket.js";
import { hiveServing } from "./job-client.js";
import { captureQueenLog } from "./queen-log.js";

/** The queen's inference log lines for the request sent with X-Request-Id `requestId`, as they come. */
function watchLog(): (requestId: string) => Record<string, unknown>[] {
  const lines = captureQueenLog();
  return (requestId) => lines.filter((line) => line.includes(`"request_id":"${requestId}"`)).map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function ask(key: string, model: string, requestId: string, stream: boolean): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] }),
  });
}

function streamHead(hive: TestHive, requestId: string): void {
  hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
}

async function loggedLine(logged: (requestId: string) => Record<string, unknown>[], requestId: string): Promise<Record<string, unknown>> {
  await eventually(async () => logged(requestId).length === 1);
  return logged(requestId)[0] as Record<string, unknown>;
}

describe("the log line of an answer cut short", () => {
  it("says null for a whole answer and client_gone for a stream its client left", async () => {
    const logged = watchLog();
    const hive = await hiveServing("cut-log-gone-hive", "cut-log-gone-model");
    const { key } = await createKey(["inference"]);

    const whole = ask(key, "cut-log-gone-model", "cut-whole", true);
    const first = await hive.next("request");
    streamHead(hive, first.requestId);
    hive.send({ type: "response_chunk", requestId: first.requestId, seq: 0, data: `data: ${contentChunk("hi")}\n\ndata: [DONE]\n\n` });
    hive.send({ type: "response_end", requestId: first.requestId, chunks: 1 });
    expect(await (await whole).text()).toContain("[DONE]");
    expect(await loggedLine(logged, "cut-whole")).toMatchObject({ status: 200, cut: null });

    const left = await ask(key, "cut-log-gone-model", "cut-gone", true);
    const second = await hive.next("request");
    streamHead(hive, second.requestId);
    hive.send({ type: "response_chunk", requestId: second.requestId, seq: 0, data: `data: ${contentChunk("partly")}\n\n` });
    // The head came early (": waiting for a worker"); read until the worker's text has come.
    const reader = left.body!.getReader();
    let read = "";
    while (!read.includes("partly")) read += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(await hive.next("cancel")).toMatchObject({ requestId: second.requestId });
    expect(await loggedLine(logged, "cut-gone")).toMatchObject({ status: 200, cut: "client_gone", completion_tokens: 1 });
  });

  it("names the error a worker's stream ended with", async () => {
    const logged = watchLog();
    const hive = await hiveServing("cut-log-error-hive", "cut-log-error-model");
    const { key } = await createKey(["inference"]);
    const answer = ask(key, "cut-log-error-model", "cut-error", true);
    const { requestId } = await hive.next("request");
    streamHead(hive, requestId);
    const error = { error: { message: "The context is full.", type: "invalid_request_error", code: "context_length_exceeded" } };
    hive.send({ type: "response_chunk", requestId, seq: 0, data: `data: ${contentChunk("a")}\n\ndata: ${JSON.stringify(error)}\n\n` });
    hive.send({ type: "response_end", requestId, chunks: 1 });
    expect(await (await answer).text()).toContain("context_length_exceeded");
    expect(await loggedLine(logged, "cut-error")).toMatchObject({ status: 200, cut: "context_length_exceeded" });
  });

  // The hive's own code does not cross the HiveSession's RPC stream (workerd hands the Worker a
  // generic disconnect), so the line says the body was incomplete.
  it("says response_incomplete for a non-streamed body that broke after its head", async () => {
    const logged = watchLog();
    const hive = await hiveServing("cut-log-json-hive", "cut-log-json-model");
    const { key } = await createKey(["inference"]);
    const answer = ask(key, "cut-log-json-model", "cut-json", false);
    const { requestId } = await hive.next("request");
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "application/json" } });
    hive.send({ type: "response_chunk", requestId, seq: 0, data: '{"choices":[' });
    const response = await answer;
    expect(response.status).toBe(200);
    hive.send({ type: "response_end", requestId, chunks: 1, error: { code: "worker_disconnected", message: "stopped mid-response" } });
    await expect(response.text()).rejects.toThrow();
    expect(await loggedLine(logged, "cut-json")).toMatchObject({ status: 200, cut: "response_incomplete" });
  });
});
