// The models an API key may use. An admin may narrow a key to some models (POST or PATCH
// /v1/keys `models`: the names clients ask for, aliases included); a key without such a list
// uses every model. A request for another model is refused before it is queued (403
// model_not_allowed, saying what the key may use, so its holder knows to ask an admin), and
// /v1/models lists only what the key may use.
import { z } from "zod";
import { RbeeError } from "../../shared/errors.js";
import { ModelName } from "../../shared/protocol/worker-heartbeat.js";
import { parseModelTarget } from "../scheduling/model-target.js";

/** Most models one key's list holds. */
export const MAX_KEY_MODELS = 100;

/** `models` of POST and PATCH /v1/keys. */
export const KeyModels = z
  .array(ModelName)
  .min(1, "must name at least one model (leave it out, or null, for every model)")
  .max(MAX_KEY_MODELS)
  .refine((models) => new Set(models).size === models.length, "must not name a model twice");

/**
 * Whether a key whose list is `allowed` may use the model asked as `asked` (maybe an alias, maybe
 * pinned to a hive as `name@hive`), which names `resolved` once aliases are followed: either name
 * on the list lets it through, so an admin may list the alias clients use or the model behind it.
 */
export function mayUseModel(allowed: readonly string[] | null | undefined, asked: string, resolved: string): boolean {
  if (allowed == null) return true;
  return [asked, resolved].some((name) => allowed.includes(name) || allowed.includes(parseModelTarget(name).model));
}

/** The refusal of a model the key may not use: 403, naming what it may use. */
export function modelNotAllowed(keyId: string, asked: string, allowed: readonly string[]): RbeeError {
  return new RbeeError(403, "model_not_allowed", `API key ${keyId} may use only the models ${allowed.map((name) => `'${name}'`).join(", ")}; '${asked}' is not one of them. An admin can change that with PATCH /v1/keys/${keyId} (rbee keys update ${keyId} --models …).`, {
    param: "model",
  });
}
