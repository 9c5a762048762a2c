import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { API_KEY, eventually, listModelIds, TestHive } from "./hive-socket.js";
import { spawnWorker } from "./job-client.js";
import { createKey, errorOf } from "./admin-api.js";

const PORT = "43123";
const UNREACHABLE = `worker on port ${PORT} is unreachable: connect ECONNREFUSED 127.0.0.1:${PORT}`;

let inferenceKey = "";
beforeAll(async () => {
  inferenceKey = (await createKey(["inference"])).key;
});

function chat(key: string, model: string, stream = false): Promise<Response> {
  return SELF.fetch("https://queen/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] }),
  });
}

/** A greeted hive named `hiveName` with one ready worker serving `model`. */
async function hiveServing(hiveName: string, model: string): Promise<TestHive> {
  const hive = await TestHive.greeted(hiveName);
  hive.heartbeat(await spawnWorker(hive, model), model);
  await eventually(async () => (await listModelIds()).includes(model));
  return hive;
}

/** Asserts `text` names no hive, loopback port or worker id. */
function expectNoLayout(text: string, hiveName: string): void {
  expect(text).not.toContain(hiveName);
  expect(text).not.toContain(PORT);
  expect(text).not.toContain("127.0.0.1");
  expect(text).not.toMatch(/wrk_/);
}

/** What a request whose hive went away while answering, and did not come back, is told. */
const HIVE_GONE = [
  [502, "hive_disconnected"],
  [503, "hive_offline"],
];

describe("what inference clients are told when a relay fails", () => {
  it("tells an inference key that a worker is unreachable without the hive's name or the worker's port", async () => {
    const hive = await hiveServing("secret-gaming-pc", "redact-model");
    const responsePromise = chat(inferenceKey, "redact-model");
    const request = await hive.next("request");
    hive.send({ type: "response_end", requestId: request.requestId, chunks: 0, error: { code: "worker_unreachable", message: UNREACHABLE } });
    const response = await responsePromise;
    expect(response.status).toBe(502);
    const text = await response.text();
    expectNoLayout(text, "secret-gaming-pc");
    const { error } = JSON.parse(text) as { error: { code: string; type: string; message: string } };
    expect(error).toMatchObject({ code: "worker_unreachable", type: "server_error" });
    // The client gets the id the queen logged the details under.
    expect(error.message).toContain(request.requestId);
    expect(response.headers.get("x-request-id")).toBe(request.requestId);
  });

  it("still shows an admin key the hive's own words", async () => {
    const hive = await hiveServing("admin-sees-hive", "admin-detail-model");
    const responsePromise = chat(API_KEY, "admin-detail-model");
    const request = await hive.next("request");
    hive.send({ type: "response_end", requestId: request.requestId, chunks: 0, error: { code: "worker_unreachable", message: UNREACHABLE } });
    expect(await errorOf(await responsePromise)).toMatchObject({ code: "worker_unreachable", message: UNREACHABLE });
  });

  it("does not name a hive that disconnected while answering", async () => {
    const hive = await hiveServing("secret-office-box", "vanish-redact-model");
    const responsePromise = chat(inferenceKey, "vanish-redact-model");
    await hive.next("request");
    hive.ws.close(1001, "going away");
    const response = await responsePromise;
    expect(response.headers.get("retry-after")).toBe("1");
    const text = await response.text();
    expectNoLayout(text, "secret-office-box");
    // The retry may reach the HiveSession before the Registry has heard the hive went (offline then).
    expect(HIVE_GONE).toContainEqual([response.status, (JSON.parse(text) as { error: { code: string } }).error.code]);
  }, 20_000); // the request waits HIVE_RETURN_WAIT_MS for the hive to come back first

  it("rewords the error event of a stream cut mid-way and passes the rest through unchanged", async () => {
    const hive = await hiveServing("secret-stream-box", "cut-redact-model");
    const responsePromise = chat(inferenceKey, "cut-redact-model", true);
    const request = await hive.next("request");
    hive.send({ type: "response_head", requestId: request.requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: 'data: {"choices":[{"delta":{"content":"first"}}]}\n\n' });
    const response = await responsePromise;
    const message = `worker on port ${PORT} stopped mid-response: ECONNRESET`;
    hive.send({ type: "response_end", requestId: request.requestId, chunks: 1, error: { code: "worker_disconnected", message } });
    const text = await response.text();
    expect(text.startsWith('data: {"choices":[{"delta":{"content":"first"}}]}\n\n')).toBe(true);
    // Nothing else serves the model to continue it: the answer ends with a worker_lost error event.
    expect(text).toContain('"code":"worker_lost"');
    expectNoLayout(text, "secret-stream-box");
  });

  it("passes a worker's own 4xx answer about the request to an inference key unchanged", async () => {
    const hive = await hiveServing("four-hundred-hive", "strict-model");
    const responsePromise = chat(inferenceKey, "strict-model");
    const request = await hive.next("request");
    const body = '{"error":{"message":"This JSON schema cannot be enforced: $ref","type":"invalid_request_error","param":"response_format","code":"unsupported_json_schema"}}';
    hive.send({ type: "response_head", requestId: request.requestId, status: 400, headers: { "content-type": "application/json" } });
    hive.send({ type: "response_chunk", requestId: request.requestId, seq: 0, data: body });
    hive.send({ type: "response_end", requestId: request.requestId, chunks: 1 });
    const response = await responsePromise;
    expect(response.status).toBe(400);
    expect(await response.text()).toBe(body);
  });
});
