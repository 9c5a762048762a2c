import { createExecutionContext, env } from "cloudflare:test";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { app } from "../../queen/app.js";
import { sha256Hex } from "../../queen/auth/secrets.js";
import { isKnownUnknown, rememberUnknown, UNKNOWN_KEYS_MAX_ENTRIES, unknownKeyCount } from "../../queen/auth/unknown-keys.js";
import { apiKeys } from "../../queen/db/schema.js";
import { call, errorOf } from "./admin-api.js";
import { eventually } from "./hive-socket.js";

/** Stores an inference key with the hash of `key` straight into D1, past the queen's routes. */
async function insertKey(key: string): Promise<void> {
  const id = `key_${crypto.randomUUID().replaceAll("-", "")}`;
  await drizzle(env.DB).insert(apiKeys).values({ id, name: "inserted", keyHash: await sha256Hex(key), scopes: ["inference"], createdAt: new Date() });
}

function randomKey(): string {
  return `rbee_sk_${crypto.randomUUID().replaceAll("-", "")}`;
}

describe("unknown API keys", () => {
  it("refuses a repeated unknown key from memory, without reading D1 again", async () => {
    const key = randomKey();
    expect((await call("GET", "/v1/models", { key })).status).toBe(401);
    // D1 knows the key now; a queen that asked D1 again would let it in.
    await insertKey(key);
    const again = await call("GET", "/v1/models", { key });
    expect(again.status).toBe(401);
    expect((await errorOf(again)).code).toBe("invalid_api_key");
  });

  it("asks D1 again once UNKNOWN_KEY_CACHE_MS has passed, and at once when it is 0", async () => {
    const queen = (vars: Record<string, string>) => {
      const configured = { ...env, ...vars };
      return (key: string) => app.request("/v1/models", { headers: { authorization: `Bearer ${key}` } }, configured, createExecutionContext());
    };
    const briefly = queen({ UNKNOWN_KEY_CACHE_MS: "500" });
    const late = randomKey();
    expect((await briefly(late)).status).toBe(401);
    await insertKey(late);
    await eventually(async () => (await briefly(late)).status === 200);

    const never = queen({ UNKNOWN_KEY_CACHE_MS: "0" });
    const fresh = randomKey();
    expect((await never(fresh)).status).toBe(401);
    await insertKey(fresh);
    expect((await never(fresh)).status).toBe(200);
  });

  it("holds a bounded number of unknown keys, however many distinct ones arrive", () => {
    const nowMs = Date.now();
    const first = "0".repeat(64);
    rememberUnknown(first, nowMs);
    for (let i = 0; i < UNKNOWN_KEYS_MAX_ENTRIES + 100; i++) rememberUnknown(`flood-${i}`, nowMs);
    expect(unknownKeyCount()).toBe(UNKNOWN_KEYS_MAX_ENTRIES);
    expect(isKnownUnknown(first, 60_000, nowMs)).toBe(false);
    expect(isKnownUnknown(`flood-${UNKNOWN_KEYS_MAX_ENTRIES + 99}`, 60_000, nowMs)).toBe(true);
  });
});
