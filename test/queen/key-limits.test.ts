import { describe, expect, it } from "vitest";
import { call, chat, createKey, errorOf } from "./admin-api.js";
import { eventually, type TestHive } from "./hive-socket.js";
import { hiveServing } from "./job-client.js";

interface LimitUse {
  name: string;
  max: number;
  used: number;
  remaining: number;
  resets_at: string | null;
}

async function limitUse(keyId: string): Promise<LimitUse[]> {
  const response = await call("GET", `/v1/usage?key_id=${keyId}`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { key_limits: Array<{ key_id: string; limits: LimitUse[] }> };
  return body.key_limits.find((entry) => entry.key_id === keyId)?.limits ?? [];
}

/** A chat answered by the hive with `tokens` in all (prompt and completion). */
async function answeredChat(hive: TestHive, key: string, model: string, tokens: number): Promise<void> {
  const answer = chat(key, model);
  const request = await hive.next("request");
  hive.respond(request.requestId, 200, JSON.stringify({ object: "chat.completion", choices: [], usage: { prompt_tokens: tokens - 1, completion_tokens: 1 } }));
  const response = await answer;
  expect(response.status).toBe(200);
  await response.text();
}

describe("API keys with limits", () => {
  it("stores a key's limits and shows them in GET /v1/keys", async () => {
    const created = await createKey(["inference"], { limits: { rpm: 60, tpm: 20000, daily_tokens: 1_000_000 } });
    expect(created).toMatchObject({ limits: { rpm: 60, tpm: 20000, daily_tokens: 1_000_000 } });
    const listed = (await (await call("GET", "/v1/keys")).json()) as { data: Array<{ id: string; limits: unknown }> };
    expect(listed.data.find((key) => key.id === created.id)?.limits).toEqual({ rpm: 60, tpm: 20000, daily_tokens: 1_000_000 });
    const plain = await createKey(["inference"]);
    expect(plain).toMatchObject({ limits: { rpm: null, tpm: null, daily_tokens: null } });
  });

  it("refuses limits that are not positive whole numbers, naming the field", async () => {
    const response = await call("POST", "/v1/keys", { body: { name: "bad", scopes: ["inference"], limits: { rpm: 0 } } });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).param).toContain("limits.rpm");
  });

  it("answers the third request of a key with rpm 2 with 429 naming requests_per_minute, with Retry-After", async () => {
    const { id, key } = await createKey(["inference"], { limits: { rpm: 2 } });
    expect((await call("GET", "/v1/models", { key })).status).toBe(200);
    expect((await call("GET", "/v1/models", { key })).status).toBe(200);
    const refused = await call("GET", "/v1/models", { key });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const error = await errorOf(refused);
    expect(error.code).toBe("rate_limited");
    expect(error.message).toContain("reached the rate limit 'requests_per_minute' (2 requests per minute); retry in");
    expect(await limitUse(id)).toEqual([expect.objectContaining({ name: "requests_per_minute", max: 2, used: 2, remaining: 0 })]);
  });

  it("refuses a request once the tokens charged after earlier answers spent the key's tokens per minute", async () => {
    const hive = await hiveServing("limits-tpm-hive", "limits-tpm-model");
    const { id, key } = await createKey(["inference"], { limits: { tpm: 10 } });
    // The first answer may overshoot the limit: its tokens are known only once it is over.
    await answeredChat(hive, key, "limits-tpm-model", 12);
    await eventually(async () => (await limitUse(id))[0]?.used === 12);
    const refused = await chat(key, "limits-tpm-model");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    expect((await errorOf(refused)).message).toContain("tokens_per_minute");
    // Listing models spends no tokens, so it is still allowed.
    expect((await call("GET", "/v1/models", { key })).status).toBe(200);
  });

  it("refuses a request once the key's tokens per day are spent, until the UTC day ends", async () => {
    const hive = await hiveServing("limits-daily-hive", "limits-daily-model");
    const { id, key } = await createKey(["inference"], { limits: { daily_tokens: 5 } });
    await answeredChat(hive, key, "limits-daily-model", 3);
    await eventually(async () => (await limitUse(id))[0]?.used === 3);
    await answeredChat(hive, key, "limits-daily-model", 3);
    await eventually(async () => (await limitUse(id))[0]?.used === 6);
    const refused = await chat(key, "limits-daily-model");
    expect(refused.status).toBe(429);
    // A spent budget is not a rate to slow down for: the SDKs are told not to retry it in a moment.
    expect(refused.headers.get("x-should-retry")).toBe("false");
    const error = await errorOf(refused);
    expect(error).toMatchObject({ type: "rate_limit_error", code: "insufficient_quota" });
    expect(error.message).toMatch(new RegExp(`^API key ${id} spent its budget 'tokens_per_day' \\(5 tokens per UTC day\\); it renews at \\d{4}-\\d\\d-\\d\\dT00:00:00Z, in \\d+ s\\.$`));
    const [daily] = await limitUse(id);
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(daily).toEqual({ name: "tokens_per_day", max: 5, used: 6, remaining: 0, resets_at: midnight.toISOString() });
  });
});
