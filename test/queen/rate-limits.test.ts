// The queen's floors against floods, with small limits: each test runs the queen's app in workerd
// on the real bindings (D1, the RateLimiter objects) with its own vars, so the suite's other files
// keep the defaults. Every test uses its own keys and addresses: RateLimiter objects are shared.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../queen/app.js";
import { ipv6Network } from "../../queen/limits/client-address.js";
import { rateLimiterStub } from "../../queen/limits/stub.js";
import { createKey, errorOf } from "./admin-api.js";
import { API_KEY } from "./hive-socket.js";

interface Caller {
  key?: string;
  address?: string;
  upgrade?: string;
}

/** A queen with these vars; calls GET `path` as `key` from `address`. */
function queenWith(vars: Record<string, string>) {
  const configured = { ...env, ...vars };
  return async (path: string, caller: Caller): Promise<Response> => {
    const headers: Record<string, string> = {};
    if (caller.key) headers.authorization = `Bearer ${caller.key}`;
    if (caller.address) headers["cf-connecting-ip"] = caller.address;
    if (caller.upgrade) headers.upgrade = caller.upgrade;
    const ctx = createExecutionContext();
    const response = await app.request(path, { headers }, configured, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

async function statuses(responses: Promise<Response>[]): Promise<number[]> {
  return (await Promise.all(responses)).map((response) => response.status);
}

describe("rate limits", () => {
  it("refuses the request past a key's limit with 429, Retry-After and the limit's name; other keys go on", async () => {
    const queen = queenWith({ RATE_LIMIT_PER_KEY: "3", RATE_LIMIT_PER_ADDRESS: "0" });
    const [busy, calm] = await Promise.all([createKey(["inference"]), createKey(["inference"])]);
    for (let i = 0; i < 3; i++) expect((await queen("/v1/models", { key: busy.key })).status).toBe(200);

    const refused = await queen("/v1/models", { key: busy.key });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const error = await errorOf(refused);
    expect(error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
    expect(error.message).toContain("requests_per_key");
    expect(error.message).toContain(busy.id);

    expect((await queen("/v1/models", { key: calm.key })).status).toBe(200);
  });

  it("still answers a key's Prometheus scrape once its requests, or its address's, are spent", async () => {
    const queen = queenWith({ RATE_LIMIT_PER_KEY: "3", RATE_LIMIT_PER_ADDRESS: "4" });
    const admin = await createKey(["admin"]);
    const caller = { key: admin.key, address: "203.0.113.77" };
    for (let i = 0; i < 3; i++) expect((await queen("/v1/workers", caller)).status).toBe(200);
    expect((await queen("/v1/workers", caller)).status).toBe(429);
    const scrape = await queen("/metrics", caller);
    expect([scrape.status, scrape.status === 200 ? "" : await scrape.text()]).toEqual([200, ""]);
  });

  it("counts an address's failed authentications, then refuses it before checking keys; other addresses go on", async () => {
    const queen = queenWith({ RATE_LIMIT_PER_KEY: "0", RATE_LIMIT_PER_ADDRESS: "3" });
    const { key } = await createKey(["inference"]);
    const prober = "203.0.113.7";
    expect(await statuses([queen("/v1/models", { key: "rbee_sk_guess1", address: prober }), queen("/v1/models", { key: "rbee_sk_guess2", address: prober })])).toEqual([401, 401]);
    expect((await queen("/v1/models", { key, address: prober })).status).toBe(200);

    const refused = await queen("/v1/models", { key, address: prober });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await errorOf(refused)).message).toContain("requests_per_address");
    // A guess from a refused address is not even looked at.
    expect((await queen("/v1/models", { key: "rbee_sk_guess3", address: prober })).status).toBe(429);

    expect((await queen("/v1/models", { key, address: "203.0.113.8" })).status).toBe(200);
  });

  it("counts hive connection attempts against the address too", async () => {
    const queen = queenWith({ RATE_LIMIT_PER_ADDRESS: "1" });
    const hive = { key: "not-a-token", address: "198.51.100.20", upgrade: "websocket" };
    expect((await queen("/v1/hive/connect?name=nobody", hive)).status).toBe(401);
    expect((await queen("/v1/hive/connect?name=nobody", hive)).status).toBe(429);
  });

  it("counts every address of one IPv6 /64 as one client", async () => {
    const queen = queenWith({ RATE_LIMIT_PER_KEY: "0", RATE_LIMIT_PER_ADDRESS: "2" });
    const { key } = await createKey(["inference"]);
    expect((await queen("/v1/models", { key, address: "2001:db8:7:1::1" })).status).toBe(200);
    expect((await queen("/v1/models", { key, address: "2001:db8:7:1:ffff::2" })).status).toBe(200);
    expect((await queen("/v1/models", { key, address: "2001:0db8:0007:0001:abcd:1:2:3" })).status).toBe(429);
    expect((await queen("/v1/models", { key, address: "2001:db8:7:2::1" })).status).toBe(200);
  });

  it("lets a refused client in again once the window has passed, the bootstrap admin key included", async () => {
    const queen = queenWith({ RATE_LIMIT_WINDOW_MS: "1000", RATE_LIMIT_PER_KEY: "1", RATE_LIMIT_PER_ADDRESS: "0" });
    // The bootstrap key (RBEE_ADMIN_KEY in vitest.config.ts) is counted like any key, under `admin`.
    const caller = { key: API_KEY };
    let refused: Response | undefined;
    for (let attempt = 0; attempt < 20 && !refused; attempt++) {
      const response = await queen("/v1/models", caller);
      if (response.status === 429) refused = response;
      else expect(response.status).toBe(200);
    }
    if (!refused) throw new Error("the admin key was never refused at 1 request per second");
    expect((await errorOf(refused)).message).toContain("API key admin");
    const retryAfterSeconds = Number(refused.headers.get("retry-after"));
    expect(retryAfterSeconds).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, retryAfterSeconds * 1000));
    expect((await queen("/v1/models", caller)).status).toBe(200);
  });

  it("asks the RateLimiter once per block of a fiftieth of the limit, and still refuses at the limit's count", async () => {
    const queen = queenWith({ RATE_LIMIT_PER_KEY: "100", RATE_LIMIT_PER_ADDRESS: "0" });
    const { id, key } = await createKey(["inference"]);
    const counted = async () => (await rateLimiterStub(env, `key:${id}`).use([{ name: "requests_per_key", windowMs: 60_000, max: 100 }]))[0]?.used;
    expect((await queen("/v1/models", { key })).status).toBe(200);
    expect(await counted()).toBe(2); // this request, and one kept for the next
    expect((await queen("/v1/models", { key })).status).toBe(200);
    expect(await counted()).toBe(2); // spent from the block: no call
    for (let i = 2; i < 100; i++) expect((await queen("/v1/models", { key })).status).toBe(200);
    const refused = await queen("/v1/models", { key });
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).message).toContain("requests_per_key");
  });

  it("lets a burst of one key's requests share a reservation instead of reserving a block each", async () => {
    const queen = queenWith({ RATE_LIMIT_PER_KEY: "1000", RATE_LIMIT_PER_ADDRESS: "0" });
    const { id, key } = await createKey(["inference"]);
    expect(await statuses(Array.from({ length: 30 }, () => queen("/v1/models", { key })))).toEqual(Array(30).fill(200));
    // Blocks of 20: two reservations for 30 requests, where one each would have counted 600.
    expect((await rateLimiterStub(env, `key:${id}`).use([{ name: "requests_per_key", windowMs: 60_000, max: 1000 }]))[0]?.used).toBe(40);
  });

  it("reduces IPv6 addresses to their /64 and keeps IPv4-mapped ones as IPv4", () => {
    const expected: Record<string, string> = {
      "2001:db8:7:1::1": "2001:db8:7:1::/64",
      "2001:0db8:0007:0001:abcd:1:2:3": "2001:db8:7:1::/64",
      "::1": "0:0:0:0::/64",
      "fe80::1%eth0": "fe80:0:0:0::/64",
      "::ffff:192.0.2.1": "192.0.2.1",
      "not:an:address": "not:an:address",
    };
    for (const [address, network] of Object.entries(expected)) expect(ipv6Network(address)).toBe(network);
  });
});
