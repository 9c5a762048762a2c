// Turns zod failures into messages that name the field, what was expected and what arrived.
import type { z } from "zod";
import { RbeeError } from "./errors.js";
import { pathDeeperThan } from "./json-nesting.js";

/**
 * Most levels of objects and arrays a request body may nest, the body itself being one. Fields
 * that take any JSON (a tool call's `input`, a content part's extra keys, which loose schemas
 * keep) are relayed and stored with JSON.stringify, which overflows the stack a few thousand
 * levels down; no request needs more than a JSON schema's MAX_SCHEMA_DEPTH (64) and a few levels
 * around it.
 */
export const MAX_BODY_DEPTH = 128;
/** Keys of a too-deep value's path that its 400 names: enough to point into the field that holds it. */
const DEEP_PATH_SHOWN = 6;

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
  return describeIssues(readableIssues(error.issues));
}

function describeIssues(issues: readonly ReadableIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issuePath(issue.path)}: ${issue.message}` : issue.message))
    .join("; ");
}

interface ReadableIssue {
  path: PropertyKey[];
  message: string;
}

/** zod's message for a value no option of a union accepts, which names neither the options nor the problem. */
const BARE_UNION_MESSAGE = "Invalid input";

/**
 * The issues as a person should read them. zod says only "Invalid input" of a value that no
 * option of a union accepts; in its place come the issues of the one option the value has the
 * type of (`stop: Too big: expected array to have <=4 items`, `content[0].text: …`), or, where
 * it has the type of none, what each option expects (`expected string or array, received null`).
 */
function readableIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): ReadableIssue[] {
  return issues.flatMap((issue): ReadableIssue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code !== "invalid_union" || issue.message !== BARE_UNION_MESSAGE || issue.errors.length === 0) return [{ path, message: issue.message }];
    const typed = issue.errors.filter((option) => !option.every(isWrongTypeAtRoot));
    if (typed.length === 1) return readableIssues(typed[0]!, path);
    if (typed.length > 1) return [{ path, message: issue.message }];
    const expected = issue.errors.flatMap((option) => option.map(expectedOf));
    const received = issue.errors.flat().map((wrong) => / received (\S+)$/.exec(wrong.message)?.[1]).find(Boolean);
    return [{ path, message: `${BARE_UNION_MESSAGE}: expected ${expected.join(" or ")}${received ? `, received ${received}` : ""}` }];
  });
}

/** The value is not of the option's type at all (rather than wrong inside, or out of its bounds). */
function isWrongTypeAtRoot(issue: z.core.$ZodIssue): boolean {
  return issue.path.length === 0 && (issue.code === "invalid_type" || issue.code === "invalid_value");
}

function expectedOf(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type") return issue.expected;
  if (issue.code === "invalid_value") return issue.values.map((value) => JSON.stringify(value)).join("|");
  return "something else";
}

/**
 * Parses `value`, or throws a 400 `invalid_request` RbeeError naming the first bad field. What
 * parses is also refused when it nests deeper than MAX_BODY_DEPTH (measured after parsing, so a
 * JSON schema too deep gets its own field's message first, and the fields a schema strips do not count).
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) {
    refuseDeepNesting(result.data);
    return result.data;
  }
  const issues = readableIssues(result.error.issues);
  const first = issues[0];
  const param = first && first.path.length > 0 ? issuePath(first.path) : undefined;
  throw new RbeeError(400, "invalid_request", `Invalid request body: ${describeIssues(issues)}`, { param });
}

function refuseDeepNesting(body: unknown): void {
  const path = pathDeeperThan(body, MAX_BODY_DEPTH);
  if (path === undefined) return;
  const param = issuePath(path.slice(0, DEEP_PATH_SHOWN));
  const shown = path.length > DEEP_PATH_SHOWN ? `${param}…` : param;
  throw new RbeeError(400, "invalid_request", `Invalid request body: ${shown}: nested more than ${MAX_BODY_DEPTH} levels of objects and arrays deep`, { param });
}
