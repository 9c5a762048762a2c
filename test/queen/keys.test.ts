import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createKey, errorOf, expectParameterRefusals } from "./admin-api.js";

describe("API keys", () => {
  it("creates a key, shows it once and stores only its SHA-256", async () => {
    const created = await createKey(["inference"]);
    expect(created.key).toMatch(/^rbee_sk_[A-Za-z0-9_-]{40,}$/);
    expect(created).toMatchObject({ id: expect.stringMatching(/^key_/), object: "api_key", scopes: ["inference"], expires_at: null, revoked_at: null });
    const row = await env.DB.prepare("SELECT key_hash FROM api_keys WHERE id = ?").bind(created.id).first<{ key_hash: string }>();
    expect(row?.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.key_hash).not.toContain(created.key);
  });

  it("lists keys without their secrets or hashes", async () => {
    const created = await createKey(["admin"]);
    const response = await call("GET", "/v1/keys");
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(created.key);
    expect(text).not.toMatch(/key_hash|keyHash|[0-9a-f]{64}/);
    const list = JSON.parse(text) as { object: string; data: Array<{ id: string; scopes: string[] }> };
    expect(list.object).toBe("list");
    expect(list.data.find((key) => key.id === created.id)).toMatchObject({ scopes: ["admin"] });
  });

  it("lists keys a page at a time, newest first, each key once, with the cursor for the next page", async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createKey(["inference"], { name: `paged ${i}` })).id);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const response = await call("GET", `/v1/keys?limit=2${after === null ? "" : `&after=${after}`}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { object: string; data: Array<{ id: string }>; has_more: boolean; next_after: string | null };
      expect(page.object).toBe("list");
      expect(page.data.length).toBeLessThanOrEqual(2);
      expect(page.has_more).toBe(page.next_after !== null);
      if (page.has_more) expect(page.next_after).toBe(page.data.at(-1)?.id);
      seen.push(...page.data.map((key) => key.id));
      after = page.next_after;
      pages++;
    } while (after !== null);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBeGreaterThanOrEqual(3);
    // Newest first: the five just created, in reverse order, lead the list.
    expect(seen.slice(0, 5)).toEqual([...created].reverse());
    const all = (await (await call("GET", "/v1/keys")).json()) as { data: Array<{ id: string }>; has_more: boolean; next_after: string | null };
    expect(all.data.map((key) => key.id)).toEqual(seen);
    expect(all).toMatchObject({ has_more: false, next_after: null });
  });

  it("refuses a bad limit or an unknown cursor with 400 naming the parameter", async () => {
    await expectParameterRefusals("/v1/keys", [
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["limit=many", "limit"],
      ["after=key_doesnotexist", "after"],
      ["after=..%2Fetc", "after"],
    ]);
  });

  it("lets a new key call the routes its scope covers at once", async () => {
    const created = await createKey(["inference"]);
    expect((await call("GET", "/v1/models", { key: created.key })).status).toBe(200);
  });

  it("refuses a revoked key with 401 api_key_revoked, at once in the same isolate", async () => {
    const created = await createKey(["inference"]);
    expect((await call("GET", "/v1/models", { key: created.key })).status).toBe(200);
    const revoke = await call("DELETE", `/v1/keys/${created.id}`);
    expect(revoke.status).toBe(200);
    expect(await revoke.json()).toMatchObject({ id: created.id, revoked_at: expect.any(String) });
    const response = await call("GET", "/v1/models", { key: created.key });
    expect(response.status).toBe(401);
    expect(await errorOf(response)).toMatchObject({ type: "authentication_error", code: "api_key_revoked" });
  });

  it("answers revoking a revoked key with 200 saying it was already revoked, and keeps the first revocation's time", async () => {
    const created = await createKey(["inference"]);
    const first = await call("DELETE", `/v1/keys/${created.id}`);
    expect(first.status).toBe(200);
    const revoked = (await first.json()) as { revoked_at: string; already_revoked: boolean };
    expect(revoked).toMatchObject({ id: created.id, revoked_at: expect.any(String), already_revoked: false });
    const again = await call("DELETE", `/v1/keys/${created.id}`);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: created.id, revoked_at: revoked.revoked_at, already_revoked: true });
  });

  it("says exactly one of two revocations at once revoked the key", async () => {
    const created = await createKey(["inference"]);
    const answers = await Promise.all([0, 1].map(async () => (await call("DELETE", `/v1/keys/${created.id}`)).json() as Promise<{ revoked_at: string; already_revoked: boolean }>));
    expect(answers.map((answer) => answer.already_revoked).sort()).toEqual([false, true]);
    expect(answers[0]?.revoked_at).toBe(answers[1]?.revoked_at);
  });

  it("refuses an expired key with 401 api_key_expired", async () => {
    const created = await createKey(["inference"], { expires_in_days: 1 });
    expect(created.expires_at).not.toBeNull();
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?").bind(Date.now() - 1000, created.id).run();
    const response = await call("GET", "/v1/models", { key: created.key });
    expect(response.status).toBe(401);
    expect(await errorOf(response)).toMatchObject({ type: "authentication_error", code: "api_key_expired" });
  });

  it("refuses an unknown key with 401 invalid_api_key", async () => {
    const response = await call("GET", "/v1/models", { key: "rbee_sk_not_a_real_key" });
    expect(response.status).toBe(401);
    expect((await errorOf(response)).code).toBe("invalid_api_key");
  });

  it("records when a key was last used", async () => {
    const created = await createKey(["inference"]);
    await call("GET", "/v1/models", { key: created.key });
    const deadline = Date.now() + 5000;
    let lastUsed: number | null = null;
    while (lastUsed === null && Date.now() < deadline) {
      lastUsed = (await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?").bind(created.id).first<{ last_used_at: number | null }>())?.last_used_at ?? null;
      if (lastUsed === null) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(lastUsed).toBeGreaterThan(Date.now() - 60_000);
  });

  it("answers revoking an unknown key with 404 naming the id", async () => {
    const response = await call("DELETE", "/v1/keys/key_doesnotexist");
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toMatchObject({ code: "api_key_not_found", param: "id" });
  });

  it("refuses a key id that could escape a path with 400 naming it", async () => {
    const response = await call("DELETE", "/v1/keys/..%2F..%2Fetc");
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: "invalid_parameter", param: "id" });
    expect(error.message).toContain("'id'");
    expect(error.message).toContain("../../etc");
  });

  it("answers malformed JSON with 400 invalid_json", async () => {
    const response = await call("POST", "/v1/keys", { body: "{nope" });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe("invalid_json");
  });

  it("names the field of a wrong type or an unknown scope", async () => {
    for (const [body, param] of [
      [{ name: 42, scopes: ["inference"] }, "name"],
      [{ name: "x", scopes: "inference" }, "scopes"],
      [{ name: "x", scopes: ["root"] }, "scopes[0]"],
      [{ name: "x", scopes: [] }, "scopes"],
      [{ name: "x", scopes: ["admin"], expires_in_days: -1 }, "expires_in_days"],
      [{ name: "x", scopes: ["admin"], expires_in_days: "soon" }, "expires_in_days"],
    ] as const) {
      const response = await call("POST", "/v1/keys", { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(response);
      expect(error.param, JSON.stringify(body)).toBe(param);
      expect(error.message).toContain(param);
    }
  });

  it("reads one key by its id, without its secret; an unknown id is 404 and a malformed one 400", async () => {
    const created = await createKey(["inference"], { limits: { rpm: 60 } });
    const response = await call("GET", `/v1/keys/${created.id}`);
    expect(response.status).toBe(200);
    const { key: _secret, ...view } = created;
    expect(await response.json()).toEqual(view);
    expect((await call("GET", "/v1/keys/key_nosuchkey123")).status).toBe(404);
    expect(await errorOf(await call("GET", "/v1/keys/..%2Fadmin"))).toMatchObject({ code: "invalid_parameter", param: "id" });
  });

  it("changes a key's name, limits and expiry, keeping the rest, and its new limit holds at once", async () => {
    const { id, key } = await createKey(["inference"], { limits: { rpm: 1, daily_tokens: 500 }, expires_in_days: 30 });
    expect((await call("GET", "/v1/models", { key })).status).toBe(200);
    expect((await call("GET", "/v1/models", { key })).status, "rpm 1").toBe(429);

    const changed = await call("PATCH", `/v1/keys/${id}`, { body: { name: "renamed", limits: { rpm: null, tpm: 20000 }, expires_in_days: null } });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ id, name: "renamed", scopes: ["inference"], expires_at: null, limits: { rpm: null, tpm: 20000, daily_tokens: 500 } });
    expect((await call("GET", "/v1/models", { key })).status, "no rpm any more: the same key works on").toBe(200);

    const expiring = await call("PATCH", `/v1/keys/${id}`, { body: { expires_in_days: 2 } });
    const expiresAt = Date.parse(((await expiring.json()) as { expires_at: string }).expires_at);
    expect(Math.abs(expiresAt - (Date.now() + 2 * 86_400_000))).toBeLessThan(60_000);
  });

  it("refuses an update that changes nothing, names an unknown field, or touches a revoked key", async () => {
    const { id } = await createKey(["inference"]);
    expect(await errorOf(await call("PATCH", `/v1/keys/${id}`, { body: {} }))).toMatchObject({ message: expect.stringContaining("give at least one of name, limits, expires_in_days") });
    const scopes = await call("PATCH", `/v1/keys/${id}`, { body: { scopes: ["admin"] } });
    expect(scopes.status, "scopes are not changed: another key is made for them").toBe(400);
    expect((await errorOf(scopes)).message).toContain("scopes");
    expect((await call("PATCH", `/v1/keys/${id}`, { body: { limits: { rpm: 0 } } })).status).toBe(400);
    expect(await errorOf(await call("PATCH", `/v1/keys/${id}`, { body: { limits: {} } }))).toMatchObject({ code: "invalid_request", param: "limits" });
    await call("DELETE", `/v1/keys/${id}`);
    const revoked = await call("PATCH", `/v1/keys/${id}`, { body: { name: "back" } });
    expect(revoked.status).toBe(409);
    expect(await errorOf(revoked)).toMatchObject({ code: "api_key_revoked", message: expect.stringContaining("a revoked key is not changed") });
    expect((await call("PATCH", "/v1/keys/key_nosuchkey123", { body: { name: "x" } })).status).toBe(404);
  });

  it("rotates a key's secret: the new one works at once, the old one is refused, and the key keeps its id, limits and their count", async () => {
    const old = await createKey(["inference"], { name: "leaked", limits: { rpm: 2 }, models: ["rbee-tiny"] });
    expect((await call("GET", "/v1/models", { key: old.key })).status).toBe(200);

    const response = await call("POST", `/v1/keys/${old.id}/rotate`);
    expect(response.status).toBe(200);
    const rotated = (await response.json()) as typeof old;
    expect(rotated.key).toMatch(/^rbee_sk_[A-Za-z0-9_-]{40,}$/);
    expect(rotated.key).not.toBe(old.key);
    const { key: _old, last_used_at: _lastUsed, ...kept } = old;
    expect(rotated).toMatchObject(kept);

    const refused = await call("GET", "/v1/models", { key: old.key });
    expect(refused.status, "the old secret, at once in the same isolate").toBe(401);
    expect((await errorOf(refused)).code).toBe("invalid_api_key");
    expect((await call("GET", "/v1/models", { key: rotated.key })).status).toBe(200);
    // The key's minute already holds two requests, the old secret's and the new one's: one key.
    expect((await call("GET", "/v1/models", { key: rotated.key })).status, "rpm 2, counted per key").toBe(429);
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE name = 'leaked'").first<{ n: number }>();
    expect(row?.n, "rotated in place, not copied").toBe(1);
  });

  it("refuses to rotate a revoked key (409), an unknown one (404) and a malformed id (400)", async () => {
    const { id, key } = await createKey(["inference"]);
    await call("DELETE", `/v1/keys/${id}`);
    const revoked = await call("POST", `/v1/keys/${id}/rotate`);
    expect(revoked.status).toBe(409);
    expect(await errorOf(revoked)).toMatchObject({ code: "api_key_revoked", message: expect.stringContaining("not given a new secret") });
    expect((await call("GET", "/v1/models", { key })).status, "still revoked").toBe(401);
    expect(await errorOf(await call("POST", "/v1/keys/key_nosuchkey123/rotate"))).toMatchObject({ code: "api_key_not_found" });
    expect(await errorOf(await call("POST", "/v1/keys/..%2Fadmin/rotate"))).toMatchObject({ code: "invalid_parameter", param: "id" });
  });

  it("refuses a name with control characters or text-direction overrides, which would garble or disguise it in a listing", async () => {
    for (const name of ["line1\nline2", "nul\u0000", "evil\u001b[2Jred", "tab\there", "admin\u202egnp.exe"]) {
      const response = await call("POST", "/v1/keys", { body: { name, scopes: ["inference"] } });
      expect(response.status, JSON.stringify(name)).toBe(400);
      expect(await errorOf(response)).toMatchObject({ param: "name", message: expect.stringContaining("must not hold control characters") });
    }
    // Any other text is a name: accents, emoji, scripts of every kind.
    const response = await call("POST", "/v1/keys", { body: { name: "Zoë 🐝 日本", scopes: ["inference"] } });
    expect(response.status).toBe(201);
  });
});
