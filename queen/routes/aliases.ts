// /v1/models/:alias/alias (admin): give a model another name (PUT {"model": "<target>"}), read
// it (GET) and remove it (DELETE). Clients then ask for the alias (aliases/model-aliases.ts);
// /v1/models lists aliases beside the models. An alias names a model, never itself nor another
// alias, and never a model the queen already knows by that name, so no request silently changes meaning.
// An alias of a model nobody has yet is kept, with a warning in the answer (`target_state`).
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { RbeeError } from "../../shared/errors.js";
import { parseRequest } from "../../shared/validation.js";
import { AliasBody, AliasName, MAX_ALIASES, aliasTable, forgetAliases } from "../aliases/model-aliases.js";
import { type ModelAliasRecord, modelAliases } from "../db/schema.js";
import type { QueenEnv } from "../env.js";
import { parseParam } from "../http/parse-param.js";
import { readJson } from "../http/read-json.js";
import { registryStub } from "../registry/stub.js";
import { parseModelTarget } from "../scheduling/model-target.js";

function aliasView(record: ModelAliasRecord) {
  return { object: "model_alias", alias: record.alias, model: record.model, updated_at: record.updatedAt.toISOString() };
}

export const aliasRoutes = new Hono<QueenEnv>()
  .put("/", async (c) => {
    const alias = parseParam("id", AliasName, c.req.param("id"));
    const { model } = parseRequest(AliasBody, await readJson(c));
    // `loop@hive` names the model `loop` too: the alias would hide the model it means to name.
    const target = parseModelTarget(model).model;
    if (target === alias) {
      throw new RbeeError(400, "invalid_alias", `'${alias}' cannot be an alias of itself ('${model}'); point it at another model.`, { param: "model" });
    }
    forgetAliases();
    const aliases = await aliasTable(c.env.DB);
    if (aliases.has(target)) {
      throw new RbeeError(400, "invalid_alias", `'${target}' is itself an alias (of '${aliases.get(target) ?? ""}'); point '${alias}' at a model.`, { param: "model" });
    }
    // Nor may an alias become another's target after the fact.
    const pointing = [...aliases].find(([name, aliased]) => name !== alias && parseModelTarget(aliased).model === alias)?.[0];
    if (pointing !== undefined) {
      throw new RbeeError(409, "alias_conflict", `Alias '${pointing}' points at '${alias}': an alias of that name would make it an alias of an alias. Point '${pointing}' elsewhere first.`, { param: "alias" });
    }
    if (!aliases.has(alias) && aliases.size >= MAX_ALIASES) {
      throw new RbeeError(409, "too_many_aliases", `The queen holds at most ${MAX_ALIASES} aliases; delete one first.`);
    }
    const known = await registryStub(c.env).modelStates();
    if (known.some((candidate) => candidate.id === alias)) {
      throw new RbeeError(409, "alias_conflict", `A model named '${alias}' exists already; an alias of that name would hide it. Choose another name.`, { param: "alias" });
    }
    const record: ModelAliasRecord = { alias, model, updatedAt: new Date() };
    await drizzle(c.env.DB).insert(modelAliases).values(record).onConflictDoUpdate({ target: modelAliases.alias, set: { model, updatedAt: record.updatedAt } });
    forgetAliases();
    // Kept all the same (the model may be pulled next), but a typo must not pass unseen.
    const targetModel = known.find((candidate) => candidate.id === target);
    const targetState = targetModel?.state ?? "unavailable";
    // Only for a target nobody has: a known model's state (its policy's `unavailable` too) says the rest.
    const warning =
      targetModel === undefined
        ? `No worker serves '${target}' and no online hive has it in its catalog: requests for '${alias}' get 404 until one does. Model names are in GET /v1/models.`
        : undefined;
    return c.json({ ...aliasView(record), target_state: targetState, ...(warning === undefined ? {} : { warning }) });
  })
  .get("/", async (c) => c.json(aliasView(await existingAlias(c.env.DB, parseParam("id", AliasName, c.req.param("id"))))))
  .delete("/", async (c) => {
    const record = await existingAlias(c.env.DB, parseParam("id", AliasName, c.req.param("id")));
    await drizzle(c.env.DB).delete(modelAliases).where(eq(modelAliases.alias, record.alias));
    forgetAliases();
    return c.json({ ...aliasView(record), deleted: true });
  });

async function existingAlias(db: D1Database, alias: string): Promise<ModelAliasRecord> {
  const [record] = await drizzle(db).select().from(modelAliases).where(eq(modelAliases.alias, alias)).limit(1);
  if (!record) throw new RbeeError(404, "alias_not_found", `No alias '${alias}'; PUT /v1/models/${alias}/alias {"model": "…"} creates it.`, { param: "alias" });
  return record;
}
