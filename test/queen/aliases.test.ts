import { describe, expect, it } from "vitest";
import { call, chat, createKey, errorOf } from "./admin-api.js";
import { hiveServing } from "./job-client.js";

interface ListedModel {
  id: string;
  state: string;
  alias_for?: string;
}

async function listedModels(): Promise<ListedModel[]> {
  return ((await (await call("GET", "/v1/models")).json()) as { data: ListedModel[] }).data;
}

describe("model aliases", () => {
  it("serves the target to a client asking for the alias, lists the alias, and forgets it once deleted", async () => {
    const hive = await hiveServing("alias-hive", "alias-target-model");
    const put = await call("PUT", "/v1/models/coder/alias", { body: { model: "alias-target-model" } });
    expect(put.status).toBe(200);
    const created = (await put.json()) as Record<string, unknown>;
    expect(created).toMatchObject({ object: "model_alias", alias: "coder", model: "alias-target-model", target_state: "loaded" });
    expect(created).not.toHaveProperty("warning");
    expect(await listedModels()).toContainEqual(expect.objectContaining({ id: "coder", alias_for: "alias-target-model", state: "loaded" }));
    expect(await (await call("GET", "/v1/models/coder")).json()).toMatchObject({ id: "coder", alias_for: "alias-target-model" });

    const { key } = await createKey(["inference"]);
    const answer = chat(key, "coder");
    const request = await hive.next("request");
    // The worker answers with its own model's name, as OpenAI answers an alias with the model behind it.
    const body = JSON.stringify({ object: "chat.completion", model: "alias-target-model", choices: [] });
    hive.respond(request.requestId, 200, body);
    const response = await answer;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(body);

    expect((await call("DELETE", "/v1/models/coder/alias")).status).toBe(200);
    expect((await listedModels()).some((model) => model.id === "coder")).toBe(false);
    const gone = await chat(key, "coder");
    expect(gone.status).toBe(404);
    expect((await errorOf(gone)).code).toBe("model_not_found");
    expect((await call("GET", "/v1/models/coder/alias")).status).toBe(404);
  });

  it("keeps an alias of a model nobody has, warning that its requests get 404 until some hive has it", async () => {
    const put = await call("PUT", "/v1/models/typo/alias", { body: { model: "Qwen2.5-Coder-7B-Instruct-Q4_K_M" } });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({
      alias: "typo",
      target_state: "unavailable",
      warning: expect.stringContaining("No worker serves 'Qwen2.5-Coder-7B-Instruct-Q4_K_M' and no online hive has it"),
    });
    expect(await (await call("GET", "/v1/models/typo")).json()).toMatchObject({ id: "typo", state: "unavailable", alias_for: "Qwen2.5-Coder-7B-Instruct-Q4_K_M" });
    expect((await call("DELETE", "/v1/models/typo/alias")).status).toBe(200);
  });

  it("refuses an alias that would hide a model, or that points at another alias", async () => {
    await hiveServing("alias-conflict-hive", "alias-real-model");
    const hiding = await call("PUT", "/v1/models/alias-real-model/alias", { body: { model: "other-model" } });
    expect(hiding.status).toBe(409);
    expect((await errorOf(hiding)).code).toBe("alias_conflict");
    expect((await call("PUT", "/v1/models/first/alias", { body: { model: "alias-real-model" } })).status).toBe(200);
    const chained = await call("PUT", "/v1/models/second/alias", { body: { model: "first" } });
    expect(chained.status).toBe(400);
    expect(await errorOf(chained)).toMatchObject({ code: "invalid_alias", param: "model" });
    const pinned = await call("PUT", "/v1/models/second/alias", { body: { model: "first@alias-conflict-hive" } });
    expect(pinned.status).toBe(400);
    expect(await errorOf(pinned)).toMatchObject({ code: "invalid_alias", param: "model" });
    // Nor may an alias take the name another alias points at: that one would become an alias of an alias.
    expect((await call("PUT", "/v1/models/third/alias", { body: { model: "not-yet-served@alias-conflict-hive" } })).status).toBe(200);
    const target = await call("PUT", "/v1/models/not-yet-served/alias", { body: { model: "alias-real-model" } });
    expect(target.status).toBe(409);
    expect(await errorOf(target)).toMatchObject({ code: "alias_conflict", param: "alias", message: expect.stringContaining("'third'") });
  });

  it("refuses an alias of itself, pinned to a hive or not, naming model", async () => {
    for (const model of ["loop", "loop@alias-loop-hive"]) {
      const self = await call("PUT", "/v1/models/loop/alias", { body: { model } });
      expect(self.status, model).toBe(400);
      expect(await errorOf(self), model).toMatchObject({ code: "invalid_alias", param: "model", message: expect.stringContaining("itself") });
    }
    expect((await listedModels()).some((model) => model.id === "loop")).toBe(false);
    expect((await call("GET", "/v1/models/loop/alias")).status).toBe(404);
  });

  it("leaves aliases to admins", async () => {
    const { key } = await createKey(["inference"]);
    expect((await call("PUT", "/v1/models/mine/alias", { key, body: { model: "alias-real-model" } })).status).toBe(403);
  });
});
