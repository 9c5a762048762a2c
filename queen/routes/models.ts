// GET /v1/models and /v1/models/:id: every model a client can ask for — loaded by a worker, or
// in the catalog of an online hive and loaded on first use — in OpenAI's shape (id, object,
// created, owned_by) plus rbee's `state` (loaded, loading, loadable, too_large), a rough
// `estimated_wait_seconds` and the `hives` that have it.
import { Hono } from "hono";
import { RbeeError } from "../../shared/errors.js";
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

export const modelRoutes = new Hono<QueenEnv>()
  .get("/", async (c) => {
    const models = await registryStub(c.env).modelStates();
    return c.json({ object: "list", data: models.map(toOpenAiModel) });
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const model = (await registryStub(c.env).modelStates()).find((candidate) => candidate.id === id);
    if (!model) throw new RbeeError(404, "model_not_found", `The model '${id}' does not exist: no worker serves it and no online hive has it in its catalog.`, { param: "model" });
    return c.json(toOpenAiModel(model));
  });
