// A hive that answers badly, on purpose or by a bug, costs its clients no more than a clear error
// and costs the keys nothing they did not use: an answer that breaks the relay protocol fails at
// once (and moves to another worker where it can), an error code of the hive's making does not
// reach the client, a body that stops coming ends at the request's deadline, a worker that exits
// takes its relays with it, the usage a hive reports is billed no higher than the request allows,
// and a hive's close is answered. hostile-heads.test.ts covers the response head itself.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, chat, createKey, errorOf, usageRows } from "./admin-api.js";
import { auth, contentChunk, eventually, type TestHive } from "./hive-socket.js";
import { hiveServing, keepBeating, spawnWorker } from "./job-client.js";

type ResponseFrame = Record<string, unknown>;

function head(requestId: string, contentType = "application/json", status = 200): ResponseFrame {
  return { type: "response_head", requestId, status, headers: { "content-type": contentType } };
}

function chunk(requestId: string, seq: number, data: string): ResponseFrame {
  return { type: "response_chunk", requestId, seq, data };
}

function end(requestId: string, chunks: number): ResponseFrame {
  return { type: "response_end", requestId, chunks };
}

/** Frames sent as one message, as a hive sends what it has within one turn. */
function sendBatch(hive: TestHive, frames: ResponseFrame[]): void {
  hive.send({ type: "batch", frames });
}

function post(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", ...headers },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], ...body }),
  });
}

describe("a hive's answer that breaks the relay protocol", () => {
  it("is refused with 502 when the message that brings its head breaks it, before the client gets a byte", async () => {
    const hive = await hiveServing("broken-batch-hive", "broken-batch-model");
    const cases: Array<[frames: (requestId: string) => ResponseFrame[], code: string, says: string]> = [
      // A chunk past the relay window, in the message of its head: the body failed before anyone read it.
      [(id) => [head(id), chunk(id, 0, "x".repeat(2_200_000)), end(id, 1)], "relay_window_exceeded", "relay window"],
      // More chunks came than the end announces: they reached the body already.
      [(id) => [head(id), chunk(id, 0, "{}"), chunk(id, 1, "TRAILING"), end(id, 1)], "invalid_response_frame", "announced 1 chunks after 2"],
      // A successful JSON answer with no body at all.
      [(id) => [head(id), end(id, 0)], "invalid_response_frame", "no body"],
      // A status no answer has: the batch is refused whole, and the relay it was about fails with it.
      [(id) => [{ ...head(id), status: 999 }, chunk(id, 0, "{}"), end(id, 1)], "invalid_response_frame", "status"],
    ];
    for (const [frames, code, says] of cases) {
      const response = post({ model: "broken-batch-model" });
      const { requestId } = await hive.next("request");
      sendBatch(hive, frames(requestId));
      const answered = await response;
      expect(answered.status, code).toBe(502);
      expect(await errorOf(answered), says).toMatchObject({ code, message: expect.stringContaining(says) });
      // The hive was told to stop the answer.
      expect((await hive.next("cancel")).requestId).toBe(requestId);
      hive.frames.length = 0;
    }
  });

  it("is refused with 502 when its type is not what the request asked for: JSON for a stream, a stream for JSON", async () => {
    const hive = await hiveServing("wrong-type-hive", "wrong-type-model");
    const cases: Array<[stream: boolean, contentType: string, data: string]> = [
      [true, "application/json", JSON.stringify({ object: "chat.completion", choices: [] })],
      [false, "text/event-stream", `data: ${contentChunk("hi")}\n\ndata: [DONE]\n\n`],
      [false, "text/html", "<p>hi</p>"],
    ];
    for (const [stream, contentType, data] of cases) {
      const response = post({ model: "wrong-type-model", stream });
      const { requestId } = await hive.next("request");
      sendBatch(hive, [head(requestId, contentType), chunk(requestId, 0, data), end(requestId, 1)]);
      const answered = await response;
      expect(answered.status, contentType).toBe(502);
      expect(await errorOf(answered)).toMatchObject({ code: "invalid_response_head", message: expect.stringContaining(`content type '${contentType}'`) });
      hive.frames.length = 0;
    }
  });
});

describe("the code a hive ends a relay with", () => {
  it("reaches the client only if it is one a hive ends relays with; any other reads hive_error", async () => {
    const hive = await hiveServing("odd-code-hive", "odd-code-model");
    const response = post({ model: "odd-code-model" });
    const { requestId } = await hive.next("request");
    hive.send({ type: "response_end", requestId, chunks: 0, error: { code: "invalid_api_key", message: "Incorrect API key provided" } });
    const answered = await response;
    expect(answered.status).toBe(502);
    expect(await errorOf(answered)).toMatchObject({ code: "hive_error", message: expect.stringContaining("Incorrect API key provided") });
  });
});

describe("a non-streamed answer whose body stops coming", () => {
  it("fails the client's body at the request's deadline and tells the hive to stop", async () => {
    const hive = await hiveServing("stalled-body-hive", "stalled-body-model");
    const response = post({ model: "stalled-body-model" }, { "x-request-timeout": "2" });
    const { requestId } = await hive.next("request");
    // The head and the start of the body, in messages of their own, and then nothing.
    hive.send(head(requestId));
    hive.send(chunk(requestId, 0, '{"object":'));
    const answered = await response;
    expect(answered.status).toBe(200);
    await expect(answered.text()).rejects.toThrow();
    expect((await hive.next("cancel")).requestId).toBe(requestId);
  });
});

describe("a worker that exits while answering", () => {
  it("takes its relays with it: the request moves to another worker at once, not at its deadline", async () => {
    const hive = await hiveServing("exited-worker-hive", "exited-worker-model");
    const second = await spawnWorker(hive, "exited-worker-model", 40002);
    keepBeating(hive, second, "exited-worker-model");
    await eventually(async () => ((await (await call("GET", "/v1/workers")).json()) as { data: { id: string }[] }).data.some((worker) => worker.id === second));
    const response = post({ model: "exited-worker-model" }, { "x-request-timeout": "60" });
    const first = await hive.next("request");
    hive.send({ type: "worker_exited", workerId: first.workerId, detail: "killed" });
    expect((await hive.next("cancel")).requestId).toBe(first.requestId);
    const retried = await hive.next("request");
    expect(retried.workerId).not.toBe(first.workerId);
    hive.respond(retried.requestId, 200, JSON.stringify({ object: "chat.completion", choices: [] }));
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(answered.headers.get("x-rbee-worker")).toBe(retried.workerId);
    await answered.text();
  });
});

describe("the usage a hive reports", () => {
  it("is billed no higher than the request allows, so an absurd count cannot lock a key out of its day", async () => {
    const hive = await hiveServing("absurd-usage-hive", "absurd-usage-model");
    const { id, key } = await createKey(["inference"], { limits: { daily_tokens: 100_000 } });
    const absurd = { prompt_tokens: 9e15, completion_tokens: 9e15, total_tokens: 1.8e16 };
    const whole = chat(key, "absurd-usage-model", { max_tokens: 16 });
    const request = await hive.next("request");
    hive.respond(request.requestId, 200, JSON.stringify({ object: "chat.completion", choices: [], usage: absurd }));
    const answered = await whole;
    expect(answered.status).toBe(200);
    await answered.text();
    await eventually(async () => (await usageRows(`key_id=${id}`)).length === 1);
    const [billed] = await usageRows(`key_id=${id}`);
    expect(billed?.completion_tokens).toBe(16);
    // The prompt's bound: three tokens a character of the request the worker read, and a chat template's 8,192.
    expect(billed?.prompt_tokens).toBeGreaterThan(8192);
    expect(billed?.prompt_tokens).toBeLessThan(8192 + 3 * 1000);

    // A stream's usage chunk that claims more than its max_tokens.
    const streamed = chat(key, "absurd-usage-model", { max_tokens: 16, stream: true, stream_options: { include_usage: true } });
    const { requestId } = await hive.next("request");
    const usageChunk = JSON.stringify({ id: "chatcmpl-test", object: "chat.completion.chunk", created: 1, model: "m", choices: [], usage: { prompt_tokens: 3, completion_tokens: 80_000, total_tokens: 80_003 } });
    sendBatch(hive, [
      head(requestId, "text/event-stream"),
      chunk(requestId, 0, `data: ${contentChunk("hi")}\n\ndata: ${usageChunk}\n\ndata: [DONE]\n\n`),
      end(requestId, 1),
    ]);
    const stream = await streamed;
    expect(stream.status).toBe(200);
    await stream.text();
    await eventually(async () => (await usageRows(`key_id=${id}`))[0]?.requests === 2);
    expect((await usageRows(`key_id=${id}`))[0]?.completion_tokens).toBe(32);

    // The key is still within its day.
    const next = chat(key, "absurd-usage-model", { max_tokens: 16 });
    const third = await hive.next("request");
    hive.respond(third.requestId, 200, JSON.stringify({ object: "chat.completion", choices: [] }));
    expect((await next).status).toBe(200);
  }, 20_000);
});

describe("a hive that closes its socket", () => {
  it("gets the queen's Close frame back, so its close completes rather than timing out", async () => {
    const hive = await hiveServing("closing-hive", "closing-model");
    hive.stopPinging();
    hive.ws.close(4000, "reconnecting");
    await eventually(async () => hive.closed !== undefined);
    expect(hive.closed).toEqual({ code: 4000, reason: "reconnecting" });
  });
});
