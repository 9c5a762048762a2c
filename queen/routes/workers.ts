// /v1/workers: list the workers the registry knows, and start one on a named hive.
import { Hono } from "hono";
import { z } from "zod";
import { RbeeError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import { HiveName } from "../../shared/protocol/hive-name.js";
import { ModelName } from "../../shared/protocol/worker-heartbeat.js";
import { parseRequest } from "../../shared/validation.js";
import type { QueenEnv } from "../env.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import { readJson } from "../http/read-json.js";
import { registryStub } from "../registry/stub.js";

const SpawnWorker = z.object({
  hive: HiveName,
  /** The name clients will use in `model`. */
  model: ModelName,
  /** Where the hive finds the weights, e.g. `file:/models/x.gguf`. */
  source: z.string().startsWith("file:", "only file: sources are supported so far").max(4096),
});

export const workerRoutes = new Hono<QueenEnv>()
  .get("/", async (c) => c.json({ object: "list", data: await registryStub(c.env).listWorkers() }))
  .post("/", async (c) => {
    const { hive, model, source } = parseRequest(SpawnWorker, await readJson(c));
    const outcome = await hiveSessionStub(c.env, hive).spawnWorker({ workerId: newId("wrk"), model, source });
    if (!outcome.ok) {
      const status = outcome.error.code === "hive_offline" ? 503 : 502;
      throw new RbeeError(status, outcome.error.code, `Hive '${hive}' could not start the worker: ${outcome.error.message}`);
    }
    const { workerId, pid, port } = outcome.worker;
    return c.json({ id: workerId, hive, model, pid, port }, 201);
  });
