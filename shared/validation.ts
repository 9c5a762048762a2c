// Turns zod failures into messages that name the field, what was expected and what arrived.
import type { z } from "zod";
import { RbeeError } from "./errors.js";

/** `messages[0].content`-style path of a zod issue. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** One line per problem, e.g. `messages[0].role: Invalid option: expected one of "system"|…`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issuePath(issue.path)}: ${issue.message}` : issue.message))
    .join("; ");
}

/** Parses `value`, or throws a 400 `invalid_request` RbeeError naming the first bad field. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const param = first && first.path.length > 0 ? issuePath(first.path) : undefined;
  throw new RbeeError(400, "invalid_request", `Invalid request body: ${describeZodError(result.error)}`, { param });
}
