// GET /v1/models and /v1/models/:id: every model a client can ask for — loaded by a worker, or
// in the catalog of an online hive and loaded on first use — in OpenAI's shape (id, object,
// created, owned_by) plus rbee's `state` (loaded, loading, loadable, too_large), a rough
// `estimated_wait_seconds` and the `hives` that have it. Aliases (routes/aliases.ts) are listed
// too, as their target's entry under the alias's id, with `alias_for` naming the target.
import { Hono } from "hono";
import { RbeeError } from "../../shared/errors.js";
import { aliasTable } from "../aliases/model-aliases.js";
import type { QueenEnv } from "../env.js";
import { registryStub } from "../registry/stub.js";
import type { ModelStateView } from "../scheduling/model-catalog-view.js";

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

export const modelRoutes = new Hono<QueenEnv>()
  .get("/", async (c) => {
    const [models, aliases] = await Promise.all([registryStub(c.env).modelStates(), aliasTable(c.env.DB)]);
    const aliasEntries = [...aliases].map(([alias, target]) => aliasEntry(alias, target, models));
    return c.json({ object: "list", data: [...models.map(toOpenAiModel), ...aliasEntries] });
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const [models, aliases] = await Promise.all([registryStub(c.env).modelStates(), aliasTable(c.env.DB)]);
    const target = aliases.get(id);
    if (target !== undefined) return c.json(aliasEntry(id, target, models));
    const model = models.find((candidate) => candidate.id === id);
    if (!model) throw new RbeeError(404, "model_not_found", `The model '${id}' does not exist: no worker serves it and no online hive has it in its catalog.`, { param: "model" });
    return c.json(toOpenAiModel(model));
  });
