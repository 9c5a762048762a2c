// Browser pages of other origins calling the queen (CORS): the preflight answered before any key
// is asked for, every answer to a page marked readable (refusals too, so the page can show them),
// nothing changed for clients that send no Origin, and CORS_ORIGINS narrowing or ending it.
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { RbeeError } from "../../shared/errors.js";
import { app } from "../../queen/app.js";
import { parseQueenConfig } from "../../queen/config.js";
import type { QueenEnv } from "../../queen/env.js";
import { crossOrigin } from "../../queen/http/cross-origin.js";
import { auth, contentChunk } from "./hive-socket.js";
import { hiveServing } from "./job-client.js";

const PAGE = "https://chat.example.com";

/** The queen's app answering under `vars` in place of the test's own (its config is parsed per env). */
async function requestWith(vars: Record<string, string>, path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.request(path, init, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** What a browser sends before a cross-origin POST with an Authorization header. */
const preflight = (origin: string) => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, x-stainless-os" },
});

describe("browser pages of other origins (CORS)", () => {
  it("answers a preflight without a key, allowing the method and the headers it asked for", async () => {
    const response = await SELF.fetch("https://queen/v1/chat/completions", preflight(PAGE));
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")).toBe("authorization,content-type,x-stainless-os");
    expect(response.headers.get("access-control-max-age")).toBe("86400");
  });

  it("marks a page's answers readable, a refusal as much as a success, and leaves its key check as it was", async () => {
    const models = await SELF.fetch("https://queen/v1/models", { headers: { ...auth, origin: PAGE } });
    expect(models.status).toBe(200);
    expect(models.headers.get("access-control-allow-origin")).toBe("*");

    const noKey = await SELF.fetch("https://queen/v1/models", { headers: { origin: PAGE } });
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get("access-control-allow-origin")).toBe("*");
    expect(((await noKey.json()) as { error: { code: string } }).error.code).toBe("missing_api_key");

    const unknown = await SELF.fetch("https://queen/v1/nowhere", { headers: { ...auth, origin: PAGE } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("marks a relayed stream readable, with the headers the queen exposes still exposed", async () => {
    const hive = await hiveServing("cors-hive", "cors-model");
    const responsePromise = SELF.fetch("https://queen/v1/chat/completions", {
      method: "POST",
      headers: { ...auth, origin: PAGE, "content-type": "application/json" },
      body: JSON.stringify({ model: "cors-model", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    const { requestId } = await hive.next("request");
    hive.send({ type: "response_head", requestId, status: 200, headers: { "content-type": "text/event-stream" } });
    hive.send({ type: "response_chunk", requestId, seq: 0, data: `data: ${contentChunk("Hello")}\n\ndata: [DONE]\n\n` });
    hive.send({ type: "response_end", requestId, chunks: 1 });
    const response = await responsePromise;
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = response.headers.get("access-control-expose-headers")?.split(", ") ?? [];
    expect(exposed).toEqual(expect.arrayContaining(["server-timing", "x-request-id"]));
    expect(await response.text()).toContain("Hello");
  }, 30_000);

  it("lets a page read Retry-After, by which the SDKs time their retry of a 429 or a 503", async () => {
    // The middleware alone in front of a refusal: filling a real queue or limit takes a test of its own.
    const refusing = new Hono<QueenEnv>();
    refusing.use(async (c, next) => {
      c.set("config", parseQueenConfig({}));
      await next();
    });
    refusing.use(crossOrigin);
    refusing.get("/busy", () => new RbeeError(429, "rate_limited", "slow down", { retryAfterSeconds: 3 }).toResponse());
    refusing.get("/fine", (c) => c.json({ ok: true }));
    const refused = await refusing.request("/busy", { headers: { origin: PAGE } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    expect(refused.headers.get("retry-after")).toBe("3");
    expect(refused.headers.get("access-control-expose-headers")).toBe("retry-after");
    expect((await refusing.request("/fine", { headers: { origin: PAGE } })).headers.get("access-control-expose-headers")).toBeNull();
    expect((await refusing.request("/busy")).headers.get("access-control-expose-headers")).toBeNull();
  });

  it("lets a page read the methods a 405 names in Allow", async () => {
    const response = await SELF.fetch("https://queen/v1/chat/completions", { headers: { ...auth, origin: PAGE } });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(response.headers.get("access-control-expose-headers")?.split(/,\s*/)).toContain("allow");
  });

  it("adds nothing for a client that sends no Origin: servers, SDKs outside browsers, curl", async () => {
    const response = await SELF.fetch("https://queen/v1/models", { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    // With no Origin an OPTIONS is no preflight: it gets what any request without a key gets.
    expect((await SELF.fetch("https://queen/v1/models", { method: "OPTIONS" })).status).toBe(401);
  });

  it("answers only the listed origins when CORS_ORIGINS lists some, and none at all for 'none'", async () => {
    const listed = { CORS_ORIGINS: `${PAGE}, http://localhost:3000` };
    const allowed = await requestWith(listed, "/v1/chat/completions", preflight("http://localhost:3000"));
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(allowed.headers.get("vary")).toContain("Origin");
    const other = await requestWith(listed, "/v1/chat/completions", preflight("https://evil.example"));
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const answered = await requestWith(listed, "/v1/models", { headers: { ...auth, origin: PAGE } });
    expect(answered.status).toBe(200);
    expect(answered.headers.get("access-control-allow-origin")).toBe(PAGE);

    const off = { CORS_ORIGINS: "none" };
    const refused = await requestWith(off, "/v1/chat/completions", preflight(PAGE));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    const plain = await requestWith(off, "/v1/models", { headers: { ...auth, origin: PAGE } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
  });
});
