import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { auth } from "./hive-socket.js";

async function postJson(path: string, body: unknown, headers: Record<string, string> = auth): Promise<Response> {
  return SELF.fetch(`https://queen${path}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("queen routes", () => {
  it("answers /health without a key", async () => {
    const response = await SELF.fetch("https://queen/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("refuses /v1 routes without a key, with an OpenAI error body", async () => {
    const response = await SELF.fetch("https://queen/v1/models");
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { message: expect.stringContaining("Bearer"), type: "authentication_error", param: null, code: "missing_api_key" },
    });
  });

  it("says what is wrong with an Authorization header that holds no bearer token, without quoting the key", async () => {
    const cases: Array<[header: string, says: string]> = [
      ["Bearer rbee_sk_secret, Bearer rbee_sk_secret", "more than one key"],
      ["rbee_sk_secret", "does not start with 'Bearer '"],
      ["Token rbee_sk_secret", "its scheme is 'Token'"],
      ["Basic cmJlZTpzZWNyZXQ=", "its scheme is 'Basic'"],
      ["Bearer", "no key after 'Bearer'"],
    ];
    for (const [header, says] of cases) {
      const response = await SELF.fetch("https://queen/v1/models", { headers: { authorization: header } });
      expect(response.status, header).toBe(401);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code, header).toBe("malformed_authorization");
      expect(error.message, header).toContain(says);
      expect(error.message, header).not.toContain("secret");
    }
  });

  it("refuses a wrong key", async () => {
    const response = await SELF.fetch("https://queen/v1/models", { headers: { authorization: "Bearer nope" } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
  });

  it("lists no models while no worker is up", async () => {
    const response = await SELF.fetch("https://queen/v1/models", { headers: auth });
    expect(await response.json()).toEqual({ object: "list", data: [] });
  });

  it("answers malformed JSON with 400 invalid_json", async () => {
    const response = await postJson("/v1/chat/completions", "{not json");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
  });

  it("names the invalid field", async () => {
    const response = await postJson("/v1/chat/completions", { model: "m", messages: [{ role: "wizard", content: "hi" }] });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { param: string; message: string } };
    expect(body.error.param).toBe("messages[0].role");
    expect(body.error.message).toContain("messages[0].role");
  });

  it("refuses n > 1 clearly", async () => {
    const response = await postJson("/v1/chat/completions", { model: "m", n: 2, messages: [{ role: "user", content: "hi" }] });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("n=1");
  });

  it("refuses a body over 1 MiB with 413 before parsing it", async () => {
    const response = await postJson("/v1/chat/completions", `{"model":"m","pad":"${"x".repeat(1024 * 1024 + 10)}"}`);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("request_too_large");
  });

  it("answers an unknown model with 404 model_not_found", async () => {
    const response = await postJson("/v1/chat/completions", { model: "no-such-model", messages: [{ role: "user", content: "hi" }] });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { message: expect.stringContaining("no-such-model"), type: "invalid_request_error", param: "model", code: "model_not_found" },
    });
  });

  it("answers GET /v1/models/:id for an unknown model with 404 model_not_found", async () => {
    const response = await SELF.fetch("https://queen/v1/models/nope", { headers: auth });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
  });

  it("validates completions and embeddings requests before routing them", async () => {
    const completion = await postJson("/v1/completions", { model: "m", prompt: 42 });
    expect(completion.status).toBe(400);
    expect(((await completion.json()) as { error: { param: string } }).error.param).toBe("prompt");
    const embedding = await postJson("/v1/embeddings", { model: "m", input: [] });
    expect(embedding.status).toBe(400);
    expect(((await embedding.json()) as { error: { param: string } }).error.param).toBe("input");
    const unknown = await postJson("/v1/embeddings", { model: "no-such-model", input: "hi" });
    expect(unknown.status).toBe(404);
  });

  it("refuses a JSON schema nested thousands of levels deep with 400 naming it, in every dialect, before relaying", async () => {
    // Written as text: JSON.stringify itself overflows the stack on it, as the queen's relay would.
    const deep = `${'{"type":"object","properties":{"a":'.repeat(2_500)}{"type":"string"}${"}}".repeat(2_500)}`;
    const user = '"messages":[{"role":"user","content":"hi"}]';
    const cases: Array<[string, string, string]> = [
      ["/v1/chat/completions", `{"model":"m",${user},"tools":[{"type":"function","function":{"name":"t","parameters":${deep}}}]}`, "tools[0].function.parameters"],
      ["/v1/chat/completions", `{"model":"m",${user},"response_format":{"type":"json_schema","json_schema":{"name":"f","schema":${deep}}}}`, "response_format.json_schema.schema"],
      ["/v1/responses", `{"model":"m","input":"hi","tools":[{"type":"function","name":"t","parameters":${deep}}]}`, "tools[0].parameters"],
      ["/v1/responses", `{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"f","schema":${deep}}}}`, "text.format.schema"],
      ["/v1/messages", `{"model":"m","max_tokens":5,${user},"tools":[{"name":"t","input_schema":${deep}}]}`, "tools[0].input_schema"],
    ];
    for (const [path, body, param] of cases) {
      const response = await postJson(path, body);
      expect(response.status, param).toBe(400);
      expect(JSON.stringify(await response.json()), param).toContain(`${param}: nested more than 64 levels`);
    }
  });

  it("refuses any JSON nested too deep to relay with 400, wherever a loose field keeps it", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const cases: Array<[string, string, string]> = [
      ["/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi","x":${deep}}]}]}`, "messages[0].content[0].x[0]"],
      ["/v1/responses", `{"model":"m","input":[{"role":"user","content":"hi","x":${deep}}]}`, "input[0].x[0][0][0]"],
      [
        "/v1/messages",
        `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"u1","name":"t","input":{"a":${deep}}}]}]}`,
        "messages[1].content[0].input.a",
      ],
    ];
    for (const [path, body, param] of cases) {
      const response = await postJson(path, body);
      expect(response.status, path).toBe(400);
      expect(JSON.stringify(await response.json()), path).toContain(`${param}…: nested more than 128 levels`);
    }
  });

  it("answers unknown routes with an OpenAI-style 404, whatever the method, though middleware covers /v1/*", async () => {
    for (const method of ["GET", "POST", "DELETE"]) {
      const response = await SELF.fetch("https://queen/v1/nope", { method, headers: auth });
      expect(response.status, method).toBe(404);
      expect(response.headers.get("allow"), method).toBeNull();
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });

  it("answers a route's path with another method 405, naming the methods it takes in Allow", async () => {
    const cases: Array<[method: string, path: string, allow: string]> = [
      ["GET", "/v1/chat/completions", "POST"],
      ["PUT", "/v1/chat/completions", "POST"],
      ["DELETE", "/v1/chat/completions", "POST"],
      ["POST", "/v1/models", "GET, HEAD"],
      ["POST", "/health", "GET, HEAD"],
      ["PUT", "/v1/keys", "GET, HEAD, POST"],
      ["PATCH", "/v1/jobs", "GET, HEAD, POST"],
      ["POST", "/metrics", "GET, HEAD"],
      ["POST", "/v1/models/coder/alias", "GET, HEAD, PUT, DELETE"],
      ["PUT", "/v1/keys/key_123", "GET, HEAD, PATCH, DELETE"],
    ];
    for (const [method, path, allow] of cases) {
      const response = await SELF.fetch(`https://queen${path}`, { method, headers: auth });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("allow"), `${method} ${path}`).toBe(allow);
      expect(await response.json()).toEqual({
        error: { message: `${method} is not allowed on ${path}; it takes ${allow}.`, type: "invalid_request_error", param: null, code: "method_not_allowed" },
      });
    }
  });

  it("answers OPTIONS without an Origin 204 with the path's methods in Allow, and 404 on a path no route takes", async () => {
    const options = await SELF.fetch("https://queen/v1/keys", { method: "OPTIONS", headers: auth });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, HEAD, POST, OPTIONS");
    expect(await options.text()).toBe("");
    expect((await SELF.fetch("https://queen/v1/nope", { method: "OPTIONS", headers: auth })).status).toBe(404);
  });

  it("answers HEAD as GET, and HEAD on a path no GET route takes 405 without a body", async () => {
    expect((await SELF.fetch("https://queen/health", { method: "HEAD" })).status).toBe(200);
    const head = await SELF.fetch("https://queen/v1/chat/completions", { method: "HEAD", headers: auth });
    expect(head.status).toBe(405);
    expect(head.headers.get("allow")).toBe("POST");
    expect(await head.text()).toBe("");
  });

  it("still checks the key first, answers a browser's preflight, and speaks Anthropic's shape under /v1/messages", async () => {
    expect((await SELF.fetch("https://queen/v1/chat/completions")).status).toBe(401);
    const preflight = await SELF.fetch("https://queen/v1/chat/completions", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    const messages = await SELF.fetch("https://queen/v1/messages", { headers: auth });
    expect(messages.status).toBe(405);
    expect(messages.headers.get("allow")).toBe("POST");
    expect(await messages.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("GET is not allowed on /v1/messages") } });
  });

  it("issues a hive token once and stores only its hash", async () => {
    const response = await postJson("/v1/hives", { name: "gaming-pc" });
    expect(response.status).toBe(201);
    const { token } = (await response.json()) as { token: string };
    expect(token).toMatch(/^rbee_ht_/);
    const { env } = await import("cloudflare:test");
    const row = await env.DB.prepare("SELECT token_hash FROM hives WHERE name = ?").bind("gaming-pc").first<{ token_hash: string }>();
    expect(row?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.token_hash).not.toContain(token);
  });

  it("refuses hive names that could escape a path", async () => {
    const response = await postJson("/v1/hives", { name: "../etc" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe("name");
  });
});
