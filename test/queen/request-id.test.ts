import { describe, expect, it } from "vitest";
import { REQUEST_ID_HEADER } from "../../shared/openai/inference-headers.js";
import { call, createKey, errorOf } from "./admin-api.js";
import { hiveServing } from "./job-client.js";
import { SELF } from "cloudflare:test";
import { auth, eventually } from "./hive-socket.js";
import { captureQueenLog } from "./queen-log.js";

function chatWithId(key: string, model: string, requestId?: string): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...(requestId === undefined ? {} : { [REQUEST_ID_HEADER]: requestId }) },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("request ids", () => {
  it("gives every answer an X-Request-Id, the one the hive was sent the request under", async () => {
    const hive = await hiveServing("request-id-hive", "request-id-model");
    const { key } = await createKey(["inference"]);
    const answer = chatWithId(key, "request-id-model");
    const request = await hive.next("request");
    hive.respond(request.requestId, 200, "{}");
    const response = await answer;
    expect(response.headers.get(REQUEST_ID_HEADER)).toBe(request.requestId);
    expect(response.headers.get("access-control-expose-headers")).toContain(REQUEST_ID_HEADER);
    await response.text();
    expect((await call("GET", "/v1/models")).headers.get(REQUEST_ID_HEADER)).toMatch(/^req_[a-z0-9]+$/);
  });

  it("echoes a client's own id, and relays under an id of the queen's so two clients' ids never clash", async () => {
    const hive = await hiveServing("request-id-own-hive", "request-id-own-model");
    const { key } = await createKey(["inference"]);
    const own = "3f2c9a1e-7b4d-4c1a-9e2f-0a1b2c3d4e5f";
    const answer = chatWithId(key, "request-id-own-model", own);
    const request = await hive.next("request");
    expect(request.requestId).toMatch(/^req_/);
    hive.respond(request.requestId, 200, "{}");
    const response = await answer;
    expect(response.headers.get(REQUEST_ID_HEADER)).toBe(own);
    await response.text();
  });

  it("logs one JSON line per inference request, naming the request, key, model, status, tokens, times, hive and worker", async () => {
    const lines = captureQueenLog();
    const hive = await hiveServing("request-log-hive", "request-log-model");
    const { id: keyId, key } = await createKey(["inference"]);
    const answer = chatWithId(key, "request-log-model", "trace-42");
    const request = await hive.next("request");
    hive.respond(request.requestId, 200, JSON.stringify({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 3 } }));
    await (await answer).text();
    const logged = () => lines.filter((line) => line.includes('"request_id":"trace-42"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    await eventually(async () => logged().length === 1);
    expect(logged()[0]).toMatchObject({
      event: "inference",
      request_id: "trace-42",
      relay_id: request.requestId,
      key_id: keyId,
      model: "request-log-model",
      status: 200,
      cut: null,
      prompt_tokens: 2,
      completion_tokens: 3,
      hive: "request-log-hive",
      worker: request.workerId,
      relay_ids: [request.requestId],
      ttft_ms: expect.any(Number),
      total_ms: expect.any(Number),
    });
  });

  it("refuses an X-Request-Id that is not safe to log, naming the header", async () => {
    const response = await SELF.fetch("https://queen/v1/models", { headers: { ...auth, [REQUEST_ID_HEADER]: "bad id\"{}" } });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: "invalid_request_id", param: REQUEST_ID_HEADER });
    const long = await SELF.fetch("https://queen/v1/models", { headers: { ...auth, [REQUEST_ID_HEADER]: "a".repeat(129) } });
    expect(long.status).toBe(400);
  });

  it("refuses it readably for a browser page, in Anthropic's shape under /v1/messages, with an id of the queen's", async () => {
    const fromPage = await SELF.fetch("https://queen/v1/chat/completions", {
      method: "POST",
      headers: { ...auth, origin: "https://chat.example.com", "content-type": "application/json", [REQUEST_ID_HEADER]: "has space" },
      body: "{}",
    });
    expect(fromPage.status).toBe(400);
    expect(fromPage.headers.get("access-control-allow-origin")).toBe("*");
    expect(fromPage.headers.get(REQUEST_ID_HEADER)).toMatch(/^req_/);
    expect(await errorOf(fromPage)).toMatchObject({ code: "invalid_request_id", param: REQUEST_ID_HEADER });

    const messages = await SELF.fetch("https://queen/v1/messages", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", [REQUEST_ID_HEADER]: "has space" },
      body: "{}",
    });
    expect(messages.status).toBe(400);
    expect(await messages.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining(REQUEST_ID_HEADER) } });
  });
});
