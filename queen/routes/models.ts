// GET /v1/models and /v1/models/:id: every model a client can ask for — loaded by a worker, or
// in the catalog of an online hive and loaded on first use — in OpenAI's shape (id, object,
// created, owned_by) plus rbee's `state` (loaded, loading, loadable, too_large), a rough
// `estimated_wait_seconds` and the `hives` that have it. Aliases (routes/aliases.ts) are listed
// too, as their target's entry under the alias's id, with `alias_for` naming the target.
// `/v1/models/name@hive` is the model as a request pinned to that hive finds it: its state there.
// Anthropic's clients (they send anthropic-version) get Anthropic's shape (dialects/anthropic/models.ts).
// A key narrowed to some models (auth/key-models.ts) is shown those alone, and refused the others.
import { Hono } from "hono";
import { RbeeError } from "../../shared/errors.js";
import { aliasTable } from "../aliases/model-aliases.js";
import { mayUseModel, modelNotAllowed } from "../auth/key-models.js";
import { isAnthropicRequest } from "../dialects/anthropic/anthropic-client.js";
import { anthropicModel, anthropicModelList } from "../dialects/anthropic/models.js";
import type { QueenEnv } from "../env.js";
import { registryStub } from "../registry/stub.js";
import type { ModelStateView } from "../scheduling/model-catalog-view.js";
import { parseModelTarget } from "../scheduling/model-target.js";
import { absentHiveRefusal, refusalError } from "../scheduling/pinned-hive-refusal.js";

function toOpenAiModel(model: ModelStateView) {
  return {
    id: model.id,
    object: "model",
    created: model.created,
    owned_by: "rbee",
    state: model.state,
    estimated_wait_seconds: model.estimatedWaitSeconds,
    hives: model.hives,
  };
}

/** An alias as /v1/models lists it: its target's entry, or `unavailable` while no hive has the target. */
function aliasEntry(alias: string, target: string, models: readonly ModelStateView[]) {
  const model = models.find((candidate) => candidate.id === target);
  const entry = model ? toOpenAiModel(model) : { object: "model", created: 0, owned_by: "rbee", state: "unavailable", estimated_wait_seconds: null, hives: [] };
  return { ...entry, id: alias, alias_for: target };
}

type ModelEntry = ReturnType<typeof toOpenAiModel> | ReturnType<typeof aliasEntry>;

export const modelRoutes = new Hono<QueenEnv>()
  .get("/", async (c) => {
    const [models, aliases] = await Promise.all([registryStub(c.env).modelStates(), aliasTable(c.env.DB)]);
    const aliasEntries = [...aliases].map(([alias, target]) => aliasEntry(alias, target, models));
    // A key narrowed to some models sees only those (auth/key-models.ts).
    const allowed = c.var.apiKey.models;
    const entries = [...models.map(toOpenAiModel), ...aliasEntries].filter((entry) => mayUseModel(allowed, entry.id, "alias_for" in entry ? entry.alias_for : entry.id));
    return c.json(isAnthropicRequest(c) ? anthropicModelList(entries) : { object: "list", data: entries });
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const { apiKey } = c.var;
    // Asked before the model is looked up: a narrowed key learns nothing of which other models exist.
    if (apiKey.models != null) {
      const pinned = parseModelTarget(id);
      const target = (await aliasTable(c.env.DB)).get(pinned.model);
      if (!mayUseModel(apiKey.models, id, target ?? id)) throw modelNotAllowed(apiKey.id, id, apiKey.models);
    }
    const entry = await modelEntry(c.env, id);
    return c.json(isAnthropicRequest(c) ? anthropicModel(entry) : entry);
  });

async function modelEntry(env: QueenEnv["Bindings"], id: string): Promise<ModelEntry> {
  const [models, aliases] = await Promise.all([registryStub(env).modelStates(), aliasTable(env.DB)]);
  const target = aliases.get(id);
  if (target !== undefined) return aliasEntry(id, target, models);
  const model = models.find((candidate) => candidate.id === id);
  if (model) return toOpenAiModel(model);
  const pinned = parseModelTarget(id);
  if (pinned.hive === undefined) throw modelNotFound(id);
  // An alias pinned to a hive (`coder@gaming-pc`) is its target there, as a request finds it.
  const pinnedModel = aliases.get(pinned.model) ?? pinned.model;
  return { ...(await pinnedEntry(env, id, { model: pinnedModel, hive: pinned.hive }, models)), ...(pinnedModel === pinned.model ? {} : { alias_for: pinnedModel }) };
}

function modelNotFound(id: string): RbeeError {
  return new RbeeError(404, "model_not_found", `The model '${id}' does not exist: no worker serves it and no online hive has it in its catalog.`, { param: "model" });
}

/** `name@hive`, as a request pinned to that hive would find it: the model's state on that hive alone. */
async function pinnedEntry(env: QueenEnv["Bindings"], id: string, target: { model: string; hive: string }, models: readonly ModelStateView[]) {
  const anywhere = models.find((candidate) => candidate.id === target.model);
  if (!anywhere) throw modelNotFound(id);
  const onHive = anywhere.hives.includes(target.hive) ? (await registryStub(env).modelStates(target.hive)).find((candidate) => candidate.id === target.model) : undefined;
  if (onHive) return { ...toOpenAiModel(onHive), id };
  // As a pinned request is refused: a hive that is away, or was never registered, says so.
  if (!(await registryStub(env).fleet()).onlineHives.includes(target.hive)) throw refusalError(await absentHiveRefusal(env.DB, target.hive));
  throw new RbeeError(404, "model_not_found", `The model '${target.model}' is not on hive '${target.hive}': it is on ${anywhere.hives.map((hive) => `'${hive}'`).join(", ")}.`, { param: "model" });
}
