// GET /v1/models and /v1/models/:id: the models some worker can serve right now, in OpenAI's shapes.
import { Hono } from "hono";
import { RbeeError } from "../../shared/errors.js";
import type { QueenEnv } from "../env.js";
import type { ModelView } from "../registry/registry.js";
import { registryStub } from "../registry/stub.js";

function toOpenAiModel(model: ModelView) {
  return { id: model.id, object: "model", created: model.created, owned_by: "rbee" };
}

export const modelRoutes = new Hono<QueenEnv>()
  .get("/", async (c) => {
    const models = await registryStub(c.env).listModels();
    return c.json({ object: "list", data: models.map(toOpenAiModel) });
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const model = (await registryStub(c.env).listModels()).find((candidate) => candidate.id === id);
    if (!model) throw new RbeeError(404, "model_not_found", `The model '${id}' does not exist or no worker serves it.`, { param: "model" });
    return c.json(toOpenAiModel(model));
  });
