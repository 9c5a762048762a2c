// Validates one path or query parameter: a bad value is a 400 that names the parameter, says
// what was expected and what arrived, before anything uses it as a key or part of a query.
import type { z } from "zod";
import { RbeeError } from "../../shared/errors.js";

/** Longest arriving value quoted back in an error message. */
const MAX_QUOTED_LENGTH = 80;

export function parseParam<S extends z.ZodType>(name: string, schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problem = result.error.issues[0]?.message ?? "is invalid";
  const arrived = value === undefined ? "nothing" : `'${String(value).slice(0, MAX_QUOTED_LENGTH)}'`;
  throw new RbeeError(400, "invalid_parameter", `Parameter '${name}' ${problem.startsWith("must") ? problem : `is invalid (${problem})`}; got ${arrived}.`, {
    param: name,
  });
}
