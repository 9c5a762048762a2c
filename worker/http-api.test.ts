// The worker's HTTP API in-process (app.request) on a fake engine: who may call it, routing,
// refusals, error shapes and the exact bytes of a stream. The real model's behaviour is in the *-api tests.
import { describe, expect, it } from "vitest";
import { RbeeError } from "../shared/errors.js";
import { usage } from "./completion-result.js";
import type { Completion, GenerateOptions } from "./engine.js";
import { createWorkerApi, MAX_BODY_BYTES, type ApiEngine } from "./http-api.js";

const PORT = 8123;
const SECRET = "k".repeat(64);
/** What the hive sends with every request: the worker's loopback address and its secret. */
const HIVE_HEADERS = { host: `127.0.0.1:${PORT}`, authorization: `Bearer ${SECRET}` };

const USAGE = usage(3, 2);

/** A stand-in for a generation: streams `pieces`, then ends, or throws `failure` after `failAfter` pieces. */
interface Script {
  pieces?: string[];
  failure?: unknown;
  failAfter?: number;
}

function fakeEngine(script: Script = {}): ApiEngine {
  const generate = async (_request: unknown, { onTextChunk }: GenerateOptions): Promise<Completion> => {
    const pieces = script.pieces ?? ["Hel", "lo"];
    for (const [index, piece] of pieces.entries()) {
      if (script.failure !== undefined && index === script.failAfter) throw script.failure;
      onTextChunk?.(piece);
    }
    if (script.failure !== undefined) throw script.failure;
    return { text: pieces.join(""), toolCalls: [], finishReason: "length", usage: USAGE };
  };
  return {
    chat: generate,
    countChatTokens: () => 7,
    complete: generate,
    embed: async () => ({ vectors: [[0.5, 0.25]], promptTokens: 1 }),
    embeddingSize: 2,
    rank: async () => ({ scores: [0.5], promptTokens: 1 }),
    canRank: false,
    slotsTotal: 1,
    slotsBusy: 0,
    queueLength: 0,
  };
}

/** The loading model of `loading` (an engine still undefined, the fraction loaded so far). */
interface Loading {
  engine: ApiEngine | undefined;
  progress: number;
}

function api(options: { script?: Script; draining?: boolean; logged?: string[]; loading?: Loading } = {}) {
  const loaded = fakeEngine(options.script);
  const { loading } = options;
  return createWorkerApi({
    engine: () => (loading ? loading.engine : loaded),
    loadProgress: () => loading?.progress ?? 1,
    modelName: "rbee-tiny",
    workerId: "wrk_api1",
    port: PORT,
    secret: SECRET,
    state: () => (loading && !loading.engine ? "loading" : "ready"),
    log: (line) => options.logged?.push(line),
    draining: () => options.draining ?? false,
  });
}

/** A request as the hive sends it, with `init.headers` on top of (or replacing) the hive's. */
function call(app: ReturnType<typeof api>, path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  return app.request(path, { ...init, headers: { ...HIVE_HEADERS, ...init.headers } });
}

function post(app: ReturnType<typeof api>, path: string, body: unknown, headers: Record<string, string> = {}) {
  return call(app, path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

const CHAT = { model: "rbee-tiny", messages: [{ role: "user", content: "Hi" }] };

async function errorOf(response: Response) {
  return ((await response.json()) as { error: { message: string; type: string; param: string | null; code: string } }).error;
}

describe("the worker's HTTP API", () => {
  it("serves /health with its state, model, id and slots", async () => {
    const response = await call(api(), "/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ready", model: "rbee-tiny", workerId: "wrk_api1", slotsTotal: 1, slotsBusy: 0, queueLength: 0 });
  });

  it("answers an unknown route with 404 not_found naming method and path", async () => {
    const response = await call(api(), "/v1/nothing-here");
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toEqual({ message: "No route for GET /v1/nothing-here", type: "invalid_request_error", param: null, code: "not_found" });
  });

  it("answers a wrong method with 405 and the allowed one, for model routes and /health", async () => {
    const get = await call(api(), "/v1/embeddings");
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(await errorOf(get)).toMatchObject({ code: "method_not_allowed", message: "GET is not allowed here; use POST" });
    const postHealth = await call(api(), "/health", { method: "POST" });
    expect(postHealth.status).toBe(405);
    expect(postHealth.headers.get("allow")).toBe("GET");
  });

  it("refuses a body declared over 1 MiB with 413 naming its size and the limit", async () => {
    const response = await call(api(), "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(MAX_BODY_BYTES + 1) },
      body: "{}",
    });
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatchObject({
      code: "request_too_large",
      message: `Request body is ${MAX_BODY_BYTES + 1} bytes; the limit is ${MAX_BODY_BYTES} bytes`,
    });
  });

  it("refuses a chunked body that grows over 1 MiB with 413 while reading it", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await call(api(), "/v1/completions", { method: "POST", headers: { "content-type": "application/json" }, body, duplex: "half" } as RequestInit & { headers: Record<string, string> });
    expect(response.status).toBe(413);
    expect((await errorOf(response)).message).toBe(`Request body is over the limit; the limit is ${MAX_BODY_BYTES} bytes`);
  });

  it("answers malformed JSON with 400 invalid_json saying where it broke", async () => {
    const response = await call(api(), "/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: '{"model": "x",' });
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
    expect(error.message).toMatch(/^Malformed JSON body: .*JSON/);
  });

  it("answers a body that fails validation with 400 naming the field", async () => {
    const response = await post(api(), "/v1/chat/completions", { model: "rbee-tiny" });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: "invalid_request", param: "messages" });
  });

  it("refuses model routes with 503 worker_draining and Retry-After while draining, but still serves /health", async () => {
    const app = api({ draining: true });
    const response = await post(app, "/v1/chat/completions", CHAT);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await errorOf(response)).toMatchObject({ type: "server_error", code: "worker_draining" });
    expect((await call(app, "/health")).status).toBe(200);
  });

  it("refuses every model route with 503 loading, the fraction loaded and Retry-After while the model loads, then serves", async () => {
    const loading: Loading = { engine: undefined, progress: 0.25 };
    const app = api({ loading });
    const bodies = { "/v1/chat/completions": CHAT, "/v1/completions": { model: "rbee-tiny", prompt: "x" }, "/v1/embeddings": { model: "rbee-tiny", input: "x" } };
    for (const [path, body] of Object.entries(bodies)) {
      const response = await post(app, path, body);
      expect(response.status, path).toBe(503);
      expect(response.headers.get("retry-after"), path).toBe("2");
      expect(await response.json(), path).toEqual({
        error: { message: "The worker is still loading its model (25% loaded); retry shortly", type: "server_error", param: null, code: "loading", load_progress: 0.25 },
      });
    }
    expect(await (await call(app, "/health")).json()).toEqual({
      status: "loading",
      model: "rbee-tiny",
      workerId: "wrk_api1",
      slotsTotal: 0,
      slotsBusy: 0,
      queueLength: 0,
      loadProgress: 0.25,
    });

    loading.engine = fakeEngine();
    const served = await post(app, "/v1/chat/completions", CHAT);
    expect(served.status).toBe(200);
    expect(await served.json()).toMatchObject({ choices: [{ message: { content: "Hello" } }] });
  });

  it("says draining rather than loading to a request made while a loading worker stops", async () => {
    const response = await post(api({ draining: true, loading: { engine: undefined, progress: 0.5 } }), "/v1/chat/completions", CHAT);
    expect(response.status).toBe(503);
    expect(await errorOf(response)).toMatchObject({ code: "worker_draining" });
  });

  it("answers an unexpected failure with a bare 500 and logs it under the request id its hive sent", async () => {
    const logged: string[] = [];
    const response = await post(api({ script: { failure: new Error("llama exploded"), failAfter: 0 }, logged }), "/v1/chat/completions", CHAT, { "x-request-id": "req_logged" });
    expect(response.status).toBe(500);
    expect(await errorOf(response)).toMatchObject({ code: "internal_error", message: "The worker failed to handle the request" });
    expect(logged.join("\n")).toContain("llama exploded");
    expect(logged.join("\n")).toContain("request req_logged /v1/chat/completions failed");
  });

  it("answers a chat completion as one JSON object", async () => {
    const response = await post(api(), "/v1/chat/completions", CHAT);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ object: "chat.completion", model: "rbee-tiny", choices: [{ message: { content: "Hello" } }], usage: USAGE });
  });
});

describe("who may call the worker", () => {
  it("serves its hive: the loopback address in Host, in any of its spellings, and the secret", async () => {
    for (const host of [`127.0.0.1:${PORT}`, `localhost:${PORT}`, `[::1]:${PORT}`, `LOCALHOST:${PORT}`]) {
      expect((await call(api(), "/health", { headers: { host } })).status, host).toBe(200);
    }
    expect((await call(api(), "/health", { headers: { authorization: `bearer  ${SECRET}` } })).status).toBe(200);
  });

  it("refuses a missing or wrong secret with 401 and a Bearer challenge, on every route", async () => {
    for (const authorization of [undefined, "Bearer wrong", `Bearer ${SECRET}x`, `Basic ${SECRET}`, SECRET]) {
      const headers: Record<string, string> = { host: HIVE_HEADERS.host, ...(authorization === undefined ? {} : { authorization }) };
      for (const [path, method] of [["/health", "GET"], ["/v1/chat/completions", "POST"], ["/v1/nothing-here", "GET"]] as const) {
        const response = await api().request(path, { method, headers: { ...headers, "content-type": "application/json" }, ...(method === "POST" ? { body: JSON.stringify(CHAT) } : {}) });
        expect(response.status, `${String(authorization)} ${path}`).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe('Bearer realm="rbee-worker"');
        expect(await errorOf(response)).toMatchObject({ type: "authentication_error", code: "unauthorized" });
      }
    }
  });

  it("refuses a Host that is not its loopback address with 403, secret or not (DNS rebinding)", async () => {
    for (const host of ["evil.example:8123", `127.0.0.1:${PORT + 1}`, "127.0.0.1", `127.0.0.1.evil.example:${PORT}`]) {
      const response = await call(api(), "/health", { headers: { host } });
      expect(response.status, host).toBe(403);
      expect(await errorOf(response)).toMatchObject({ type: "permission_error", code: "forbidden_host", message: expect.stringContaining(JSON.stringify(host)) });
    }
    const noHost = await api().request("/health", { headers: { authorization: HIVE_HEADERS.authorization } });
    expect(noHost.status).toBe(403);
  });

  it("refuses a model request that is not application/json with 415, before reading it", async () => {
    for (const type of [undefined, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const response = await call(api(), "/v1/chat/completions", { method: "POST", headers: type === undefined ? {} : { "content-type": type }, body: JSON.stringify(CHAT) });
      expect(response.status, String(type)).toBe(415);
      expect(await errorOf(response)).toMatchObject({ code: "unsupported_media_type" });
    }
    expect((await post(api(), "/v1/chat/completions", CHAT, { "content-type": "application/json; charset=utf-8" })).status).toBe(200);
  });
});

describe("the worker's event streams", () => {
  it("sends `data: {json}` events, a finish chunk, usage and [DONE], with the event-stream headers", async () => {
    const response = await post(api(), "/v1/completions", { model: "rbee-tiny", prompt: "x", stream: true, stream_options: { include_usage: true } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    const text = await response.text();
    const events = text.split("\n\n");
    expect(events.pop()).toBe("");
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((event) => {
      expect(event).toMatch(/^data: \{.*\}$/);
      return JSON.parse(event.slice("data: ".length)) as { choices: { text: string; finish_reason: string | null }[]; usage?: unknown };
    });
    expect(chunks.map((chunk) => chunk.choices[0]?.text ?? "")).toEqual(["Hel", "lo", "", ""]);
    expect(chunks[2]?.choices[0]?.finish_reason).toBe("length");
    expect(chunks[3]?.usage).toEqual(USAGE);
  });

  it("opens a chat stream with the assistant's role chunk", async () => {
    const text = await (await post(api(), "/v1/chat/completions", { ...CHAT, stream: true })).text();
    const first = JSON.parse(text.split("\n\n")[0]?.slice("data: ".length) ?? "") as { choices: { delta: unknown }[] };
    expect(first.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
  });

  it("keeps the status code of an error found before the first text", async () => {
    const full = new RbeeError(503, "queue_full", "All slots are busy", { retryAfterSeconds: 2 });
    const response = await post(api({ script: { failure: full, failAfter: 0 } }), "/v1/chat/completions", { ...CHAT, stream: true });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("2");
    expect(await errorOf(response)).toMatchObject({ code: "queue_full" });
  });

  it("sends an error found mid-stream as the last event, without [DONE]", async () => {
    const failure = new RbeeError(500, "generation_failed", "The context broke");
    const response = await post(api({ script: { failure, failAfter: 1 } }), "/v1/chat/completions", { ...CHAT, stream: true });
    expect(response.status).toBe(200);
    const events = (await response.text()).split("\n\n").filter((event) => event !== "");
    expect(events.at(-1)).toBe(`data: ${JSON.stringify(failure.toBody())}`);
    expect(events).not.toContain("data: [DONE]");
  });
});
