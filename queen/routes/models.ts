// GET /v1/models: the models some worker can serve right now, in OpenAI's list shape.
import { Hono } from "hono";
import type { QueenEnv } from "../env.js";
import { registryStub } from "../registry/stub.js";

export const modelRoutes = new Hono<QueenEnv>().get("/", async (c) => {
  const models = await registryStub(c.env).listModels();
  return c.json({
    object: "list",
    data: models.map((model) => ({ id: model.id, object: "model", created: model.created, owned_by: "rbee" })),
  });
});
