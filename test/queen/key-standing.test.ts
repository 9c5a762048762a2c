// A request that waited in the queue is asked again, once placed, whether its key still stands:
// an admin's revocation or rotation, or a token budget the answers before it spent, refuses it there, and the
// worker is asked nothing. A request placed at once is not asked again (its key was checked as
// it arrived).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { keyStanding } from "../../queen/auth/key-standing.js";
import { registryStub } from "../../queen/registry/stub.js";
import { call, chat, createKey, errorOf } from "./admin-api.js";
import { eventually, type TestHive } from "./hive-socket.js";
import { hiveServing } from "./job-client.js";

/** Sends a chat for `model` behind the one its hive holds, and waits until the queen has it queued. */
async function queuedChat(key: string, model: string): Promise<{ answer: Promise<Response> }> {
  const answer = chat(key, model);
  await eventually(async () => ((await registryStub(env).queueDepths())[model] ?? 0) === 1);
  return { answer }; // not the promise itself, which the async function's own would take on
}

/** The answer's status once its body is read: the lease ends with the body. */
async function answered(response: Promise<Response>): Promise<number> {
  const read = await response;
  await read.text();
  return read.status;
}

function answer(hive: TestHive, requestId: string, tokens: number): void {
  hive.respond(requestId, 200, JSON.stringify({ object: "chat.completion", choices: [], usage: { prompt_tokens: tokens - 1, completion_tokens: 1 } }));
}

describe("a request that waited, once placed", () => {
  it("is refused with 401 api_key_revoked when its key was revoked while it waited, and never reaches the worker", async () => {
    const model = "standing-revoked-model";
    const hive = await hiveServing("standing-revoked-hive", model);
    const { id, key } = await createKey(["inference"]);
    const first = chat(key, model);
    const firstRequest = await hive.next("request");
    const waiting = (await queuedChat(key, model)).answer;

    expect((await call("DELETE", `/v1/keys/${id}`)).status).toBe(200);
    answer(hive, firstRequest.requestId, 3);
    expect(await answered(first), "the answer under way when the key was revoked is given").toBe(200);

    const refused = await waiting;
    expect(refused.status).toBe(401);
    expect(await errorOf(refused)).toMatchObject({ code: "api_key_revoked", message: `API key ${id} was revoked; ask an admin for a new one.` });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hive.frames.filter((frame) => frame.type === "request"), "nothing more was sent to the worker").toEqual([]);
  });

  it("is refused with 429 insufficient_quota naming tokens_per_day when the answers before it spent the key's budget while it waited", async () => {
    const model = "standing-budget-model";
    const hive = await hiveServing("standing-budget-hive", model);
    const { key } = await createKey(["inference"], { limits: { daily_tokens: 10 } });
    const first = chat(key, model);
    const firstRequest = await hive.next("request");
    const waiting = (await queuedChat(key, model)).answer;

    answer(hive, firstRequest.requestId, 12);
    expect(await answered(first)).toBe(200);

    const refused = await waiting;
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    expect(refused.headers.get("x-should-retry"), "a spent budget is not retried in a moment").toBe("false");
    expect(await errorOf(refused)).toMatchObject({ code: "insufficient_quota", message: expect.stringContaining("'tokens_per_day'") });
    expect(hive.frames.filter((frame) => frame.type === "request")).toEqual([]);
  });

  it("is refused with 401 api_key_rotated when its key was given a new secret while it waited, as a leaked key is", async () => {
    const model = "standing-rotated-model";
    const hive = await hiveServing("standing-rotated-hive", model);
    const { id, key } = await createKey(["inference"]);
    const first = chat(key, model);
    const firstRequest = await hive.next("request");
    const waiting = (await queuedChat(key, model)).answer;

    const rotated = (await (await call("POST", `/v1/keys/${id}/rotate`)).json()) as { key: string };
    answer(hive, firstRequest.requestId, 3);
    expect(await answered(first)).toBe(200);

    const refused = await waiting;
    expect(refused.status).toBe(401);
    expect(await errorOf(refused)).toMatchObject({ code: "api_key_rotated", message: expect.stringContaining("use the new one") });
    expect(hive.frames.filter((frame) => frame.type === "request")).toEqual([]);
    const withNew = chat(rotated.key, model);
    answer(hive, (await hive.next("request")).requestId, 3);
    expect(await answered(withNew), "the new secret is served").toBe(200);
  });

  it("is served as usual when its key still stands", async () => {
    const model = "standing-fine-model";
    const hive = await hiveServing("standing-fine-hive", model);
    const { key } = await createKey(["inference"], { limits: { daily_tokens: 1000 } });
    const first = chat(key, model);
    const firstRequest = await hive.next("request");
    const waiting = (await queuedChat(key, model)).answer;
    answer(hive, firstRequest.requestId, 3);
    expect(await answered(first)).toBe(200);
    answer(hive, (await hive.next("request")).requestId, 3);
    expect(await answered(waiting)).toBe(200);
  });
});

describe("keyStanding", () => {
  it("says a key revoked or expired since, reads the key's token limits as they are now, and always passes the bootstrap key", async () => {
    const revoked = await createKey(["inference"]);
    expect(await keyStanding(env, { id: revoked.id, scopes: ["inference"] }, true)).toBeUndefined();
    await call("DELETE", `/v1/keys/${revoked.id}`);
    expect(await keyStanding(env, { id: revoked.id, scopes: ["inference"] }, true)).toMatchObject({ status: 401, code: "api_key_revoked" });

    const expiring = await createKey(["inference"], { expires_in_days: 1 });
    const tomorrow = Date.now() + 2 * 86_400_000;
    expect(await keyStanding(env, { id: expiring.id, scopes: ["inference"] }, true, tomorrow)).toMatchObject({ status: 401, code: "api_key_expired" });

    const rotating = await createKey(["inference"]);
    const secretHash = (await env.DB.prepare("SELECT key_hash FROM api_keys WHERE id = ?").bind(rotating.id).first<{ key_hash: string }>())?.key_hash;
    expect(await keyStanding(env, { id: rotating.id, scopes: ["inference"], secretHash }, true)).toBeUndefined();
    await call("POST", `/v1/keys/${rotating.id}/rotate`);
    expect(await keyStanding(env, { id: rotating.id, scopes: ["inference"], secretHash }, true)).toMatchObject({ status: 401, code: "api_key_rotated" });

    expect(await keyStanding(env, { id: "admin", scopes: ["inference", "admin"] }, true)).toBeUndefined();
  });
});
