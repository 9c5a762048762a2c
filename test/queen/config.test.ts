import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../queen/app.js";
import { DEFAULTS, parseQueenConfig } from "../../queen/config.js";
import { createKey, errorOf } from "./admin-api.js";

describe("the queen's configuration", () => {
  it("uses the defaults for unset or empty vars, and takes numbers in their units", () => {
    expect(parseQueenConfig({})).toEqual({ ...DEFAULTS, heartbeatIntervalMs: 5000, maxJsonBodyBytes: 1024 * 1024, hiveFrameBurst: 4000, hiveFramesPerSecond: 2000, adminKey: undefined });
    expect(parseQueenConfig({ HEARTBEAT_INTERVAL_MS: "", MAX_JSON_BODY_BYTES: "", RBEE_ADMIN_KEY: "" })).toEqual({ ...DEFAULTS, adminKey: undefined });
    expect(parseQueenConfig({ HEARTBEAT_INTERVAL_MS: "250", MAX_JSON_BODY_BYTES: "2048", HIVE_FRAME_BURST: "10", HIVE_FRAMES_PER_SECOND: "5", RBEE_ADMIN_KEY: "k" })).toEqual({
      ...DEFAULTS,
      heartbeatIntervalMs: 250,
      maxJsonBodyBytes: 2048,
      hiveFrameBurst: 10,
      hiveFramesPerSecond: 5,
      adminKey: "k",
    });
  });

  it("takes 0 for a rate limit or the unknown-key cache as off", () => {
    expect(parseQueenConfig({ RATE_LIMIT_PER_KEY: "0", RATE_LIMIT_PER_ADDRESS: "0", UNKNOWN_KEY_CACHE_MS: "0" })).toMatchObject({
      rateLimitPerKey: 0,
      rateLimitPerAddress: 0,
      unknownKeyCacheMs: 0,
    });
  });

  it("reads CORS_ORIGINS as any origin, none, or a list of origins", () => {
    expect(parseQueenConfig({}).corsOrigins).toBe("*");
    expect(parseQueenConfig({ CORS_ORIGINS: " * " }).corsOrigins).toBe("*");
    expect(parseQueenConfig({ CORS_ORIGINS: "none" }).corsOrigins).toEqual([]);
    expect(parseQueenConfig({ CORS_ORIGINS: "https://chat.example.com, http://localhost:3000" }).corsOrigins).toEqual(["https://chat.example.com", "http://localhost:3000"]);
    for (const bad of ["chat.example.com", "https://chat.example.com/", "https://chat.example.com/v1", "ftp://files.example.com", "https://a.example,,https://b.example"]) {
      expect(() => parseQueenConfig({ CORS_ORIGINS: bad })).toThrow(expect.objectContaining({ code: "invalid_configuration", message: expect.stringContaining("CORS_ORIGINS: expected \"*\" (any origin, the default), \"none\", or a comma-separated list of origins") }));
    }
  });

  it("refuses a bad value, naming the var, what was expected and what arrived", () => {
    for (const [vars, expected] of [
      [{ MAX_JSON_BODY_BYTES: "lots" }, "MAX_JSON_BODY_BYTES: expected a positive integer (bytes, default 1048576), got 'lots'"],
      [{ MAX_JSON_BODY_BYTES: "-5" }, "MAX_JSON_BODY_BYTES: expected a positive integer (bytes, default 1048576), got '-5'"],
      [{ HEARTBEAT_INTERVAL_MS: "1.5" }, "HEARTBEAT_INTERVAL_MS: expected a positive integer (ms, default 5000), got '1.5'"],
      [{ HEARTBEAT_INTERVAL_MS: "0" }, "HEARTBEAT_INTERVAL_MS: expected a positive integer (ms, default 5000), got '0'"],
      [{ RATE_LIMIT_PER_KEY: "-1" }, "RATE_LIMIT_PER_KEY: expected 0 (off) or a positive integer (requests per window, default 12000), got '-1'"],
      [{ JOB_RETENTION_DAYS: "forever" }, "JOB_RETENTION_DAYS: expected a positive integer (days, default 30), got 'forever'"],
      [{ WEDGED_WORKER_STOP_SECONDS: "1m" }, "WEDGED_WORKER_STOP_SECONDS: expected 0 (off) or a positive integer (seconds, default 60), got '1m'"],
    ] as const) {
      expect(() => parseQueenConfig(vars)).toThrow(expect.objectContaining({ status: 500, code: "invalid_configuration", message: expect.stringContaining(expected) }));
    }
  });

  it("answers every request with 500 invalid_configuration while a var is bad", async () => {
    const response = await app.request("/health", {}, { ...env, HEARTBEAT_INTERVAL_MS: "soon" });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({
      error: { code: "invalid_configuration", type: "server_error", message: expect.stringContaining("HEARTBEAT_INTERVAL_MS") },
    });
  });

  it("refuses an RBEE_ADMIN_KEY shorter than 16 characters with 503 weak_admin_key naming the secret and the minimum, while keys from D1 still work", async () => {
    const configured = { ...env, RBEE_ADMIN_KEY: "abc" };
    const get = async (key: string) => {
      const ctx = createExecutionContext();
      const response = await app.request("/v1/hives", { headers: { authorization: `Bearer ${key}` } }, configured, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    const refused = await get("abc");
    expect(refused.status).toBe(503);
    const error = await errorOf(refused);
    expect(error).toMatchObject({ code: "weak_admin_key", type: "server_error" });
    expect(error.message).toContain("RBEE_ADMIN_KEY");
    expect(error.message).toContain("16 characters");
    expect(error.message).toContain("wrangler secret put RBEE_ADMIN_KEY");
    // Someone who does not hold the weak key learns nothing of it: theirs is just a wrong key.
    expect((await errorOf(await get("rbee_sk_someone_guessing"))).code).toBe("invalid_api_key");
    // Keys an admin made earlier (with a strong admin key) keep working.
    const made = await createKey(["admin"]);
    expect((await get(made.key)).status).toBe(200);
    // At 16 characters the key is taken.
    expect((await app.request("/v1/hives", { headers: { authorization: "Bearer 0123456789abcdef" } }, { ...env, RBEE_ADMIN_KEY: "0123456789abcdef" }, createExecutionContext())).status).toBe(200);
  });
});
