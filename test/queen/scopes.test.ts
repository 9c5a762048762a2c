import { describe, expect, it } from "vitest";
import { scopeForPath } from "../../queen/auth/route-scope.js";
import { call, createKey, errorOf } from "./admin-api.js";

const ADMIN_ROUTES = [
  ["GET", "/v1/keys"],
  ["POST", "/v1/keys"],
  ["GET", "/v1/hives"],
  ["POST", "/v1/hives"],
  ["GET", "/v1/workers"],
  ["GET", "/v1/usage"],
  ["DELETE", "/v1/keys/key_abc"],
] as const;

describe("scopes", () => {
  it("gives an inference key 403 insufficient_scope on every admin route, in OpenAI's error shape", async () => {
    const { key } = await createKey(["inference"]);
    for (const [method, path] of ADMIN_ROUTES) {
      const response = await call(method, path, { key, body: method === "POST" ? { name: "x" } : undefined });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(await response.json()).toEqual({
        error: { message: expect.stringContaining("'admin' scope"), type: "permission_error", param: null, code: "insufficient_scope" },
      });
    }
  });

  it("lets an inference key list models and reach the inference routes", async () => {
    const { key } = await createKey(["inference"]);
    expect((await call("GET", "/v1/models", { key })).status).toBe(200);
    // Past authentication: an unknown model is the route's own 404, not a 403.
    const chat = await call("POST", "/v1/chat/completions", { key, body: { model: "no-such-model", messages: [{ role: "user", content: "hi" }] } });
    expect(chat.status).toBe(404);
    expect((await errorOf(chat)).code).toBe("model_not_found");
  });

  it("gives an admin-only key 403 on the inference routes, naming the inference scope", async () => {
    const { key } = await createKey(["admin"]);
    expect((await call("GET", "/v1/keys", { key })).status).toBe(200);
    const response = await call("GET", "/v1/models", { key });
    expect(response.status).toBe(403);
    expect((await errorOf(response)).message).toContain("'inference' scope");
  });

  it("lets the bootstrap admin key call inference and admin routes alike", async () => {
    for (const path of ["/v1/models", "/v1/keys", "/v1/hives", "/v1/workers", "/v1/usage"]) {
      expect((await call("GET", path)).status, path).toBe(200);
    }
  });

  it("lets a key with both scopes call everything", async () => {
    const { key } = await createKey(["inference", "admin"]);
    for (const path of ["/v1/models", "/v1/keys", "/v1/usage"]) {
      expect((await call("GET", path, { key })).status, path).toBe(200);
    }
  });

  it("decides the scope by path: the OpenAI endpoints are inference, the rest of /v1 admin", () => {
    expect(scopeForPath("/v1/models")).toBe("inference");
    expect(scopeForPath("/v1/models/hf:org/repo:file.gguf")).toBe("inference");
    expect(scopeForPath("/v1/chat/completions")).toBe("inference");
    expect(scopeForPath("/v1/completions/")).toBe("inference");
    expect(scopeForPath("/v1/embeddings")).toBe("inference");
    expect(scopeForPath("/v1/modelsx")).toBe("admin");
    expect(scopeForPath("/v1/jobs")).toBe("admin");
    expect(scopeForPath("/v1/anything-new")).toBe("admin");
  });
});
