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

  it("answers unknown routes with an OpenAI-style 404", async () => {
    const response = await SELF.fetch("https://queen/v1/nope", { headers: auth });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
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
