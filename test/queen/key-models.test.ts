// An API key narrowed to some models: a request for another is refused before it is queued (403
// model_not_allowed, naming what the key may use), /v1/models lists only what it may use, and an
// admin changes the list with PATCH (null: every model again). An alias on the list lets its
// target be used through it.
import { describe, expect, it } from "vitest";
import { call, chat, createKey, errorOf } from "./admin-api.js";
import { eventually, listModelIds, type TestHive } from "./hive-socket.js";
import { hiveServing } from "./job-client.js";

async function listedFor(key: string): Promise<string[]> {
  const response = await call("GET", "/v1/models", { key });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: Array<{ id: string }> }).data.map((model) => model.id);
}

/** A chat `key` sends for `model` that the hive answers; the answer's status. */
async function answeredChat(hive: TestHive, key: string, model: string): Promise<number> {
  const answer = chat(key, model);
  hive.respond((await hive.next("request")).requestId, 200, JSON.stringify({ object: "chat.completion", choices: [] }));
  const response = await answer;
  await response.text();
  return response.status;
}

describe("an API key narrowed to some models", () => {
  it("uses only those, sees only those, and an admin widens or narrows the list without a new secret", { timeout: 20_000 }, async () => {
    const allowedHive = await hiveServing("km-allowed-hive", "km-allowed");
    const otherHive = await hiveServing("km-other-hive", "km-other");
    expect((await call("PUT", "/v1/models/km-alias/alias", { body: { model: "km-other" } })).status).toBe(200);
    const { id, key, models } = await createKey(["inference"], { models: ["km-allowed"] });
    expect(models).toEqual(["km-allowed"]);

    expect(await answeredChat(allowedHive, key, "km-allowed")).toBe(200);
    const refused = await chat(key, "km-other");
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toEqual({
      type: "permission_error",
      code: "model_not_allowed",
      param: "model",
      message: `API key ${id} may use only the models 'km-allowed'; 'km-other' is not one of them. An admin can change that with PATCH /v1/keys/${id} (rbee keys update ${id} --models …).`,
    });
    expect((await chat(key, "km-alias")).status, "an alias of a model it may not use").toBe(403);
    expect(otherHive.frames.filter((frame) => frame.type === "request"), "nothing reached the other model's worker").toEqual([]);
    const listed = await listedFor(key);
    expect(listed).toContain("km-allowed");
    expect(listed).not.toContain("km-other");
    expect(listed).not.toContain("km-alias");
    expect((await call("GET", "/v1/models/km-other", { key })).status).toBe(403);
    expect((await call("GET", "/v1/models/km-made-up", { key })).status, "the same answer as for a model that exists: nothing learnt").toBe(403);
    expect((await call("GET", "/v1/models/km-allowed", { key })).status).toBe(200);

    // The alias on the list: its target is used through it.
    const patched = await call("PATCH", `/v1/keys/${id}`, { body: { models: ["km-alias"] } });
    expect(await patched.json()).toMatchObject({ id, models: ["km-alias"] });
    expect(await answeredChat(otherHive, key, "km-alias")).toBe(200);
    expect((await chat(key, "km-allowed")).status).toBe(403);
    expect(await listedFor(key)).toEqual(["km-alias"]);

    // null: every model again.
    await call("PATCH", `/v1/keys/${id}`, { body: { models: null } });
    expect(await answeredChat(allowedHive, key, "km-allowed")).toBe(200);
    await eventually(async () => (await listedFor(key)).length === (await listModelIds()).length);
  });

  it("refuses a list that is empty, repeats a model, or names one no request could", async () => {
    for (const models of [[], ["a", "a"], ["../etc"], "km-allowed"]) {
      const response = await call("POST", "/v1/keys", { body: { name: "km-bad", scopes: ["inference"], models } });
      expect(response.status, JSON.stringify(models)).toBe(400);
      expect((await errorOf(response)).param, JSON.stringify(models)).toMatch(/^models/);
    }
  });
});
