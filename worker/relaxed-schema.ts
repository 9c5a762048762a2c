// A schema that is not `strict` (a tool's parameters, a json_schema response format), made into
// one the grammar can enforce: normalized first (schema-normalizer.ts), then every keyword the
// grammars cannot enforce is dropped (json-schema-support.ts says which), so the output keeps the
// schema's structure (types, properties, required, enums, unions) and whatever bounds, patterns
// and formats the grammars can write, and leaves the rest to the model, as hosted APIs leave all
// of it without strict mode. Dropping an assertion only ever lets more values through:
// `multipleOf`, a `pattern` with a lookahead, `uniqueItems`, a format the grammar does not know,
// `not`, `if`/`then`, `dependentRequired`, a `$ref` outside the schema; a schema left with nothing
// that shapes it takes any JSON value. `allOf` of objects becomes one object with all their properties.
// Agents such as Claude Code send schemas full of such keywords on every request, and refusing
// them would refuse the agent. A `strict` schema is not relaxed: what it says is enforced, or the
// request is refused (tool-functions.ts, response-formats.ts).
import { isRecord } from "../shared/is-record.js";
import {
  ANNOTATION_KEYWORDS,
  ANY_JSON_VALUE,
  defsName,
  ENFORCED_STRING_FORMATS,
  enforcedKeywords,
  SCALAR_TYPES,
  schemaKind,
  SUBSCHEMA_KEYWORDS,
  SUBSCHEMA_LIST_KEYWORDS,
  SUBSCHEMA_MAP_KEYWORDS,
} from "./json-schema-support.js";
import { scalarGrammar } from "./scalar-grammar.js";
import { normalizedSchema } from "./schema-normalizer.js";

/** What says which values a schema takes; a schema with none of them takes any JSON value. */
const SHAPING = ["type", "const", "enum", "oneOf", "anyOf", "$ref"];

/** A client's schema as the grammar is to take it: normalized, and relaxed unless `strict`. */
export function schemaAsAsked(schema: unknown, strict: boolean): unknown {
  return strict ? normalizedSchema(schema) : relaxedSchema(schema);
}

export function relaxedSchema(schema: unknown): unknown {
  const normalized = normalizedSchema(schema);
  if (!isRecord(normalized)) return normalized;
  return relax(normalized, isRecord(normalized.$defs) ? normalized.$defs : {});
}

/** `defs`: the root's definitions, which every `#/$defs/…` reference names once normalized. */
function relax(schema: unknown, defs: Record<string, unknown>): unknown {
  if (!isRecord(schema)) return schema;
  const source = Array.isArray(schema.allOf) ? mergedAllOf(schema, defs) : schema;
  const kind = schemaKind(source);
  const enforced = typeof kind === "string" ? enforcedKeywords(kind) : ANNOTATION_KEYWORDS;
  const relaxed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    // A type JSON Schema does not have is the client's mistake, not a keyword to leave to the
    // model: kept, so that the check after (json-schema-support.ts) refuses it by name.
    if (key === "type" && !isJsonSchemaType(value)) relaxed[key] = value;
    if (!enforced.has(key)) continue;
    if (key === "format" && !(typeof value === "string" && ENFORCED_STRING_FORMATS.has(value))) continue;
    if (key === "$ref" && definitionNamed(value, defs) === undefined) continue; // outside the schema: left to the model
    if (SUBSCHEMA_KEYWORDS.has(key)) relaxed[key] = relax(value, defs);
    else if (SUBSCHEMA_MAP_KEYWORDS.has(key) && isRecord(value)) relaxed[key] = Object.fromEntries(Object.entries(value).map(([name, each]) => [name, relax(each, defs)]));
    else if (SUBSCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) relaxed[key] = value.map((each) => relax(each, defs));
    else relaxed[key] = value;
  }
  // A pattern with a lookahead, a length beside a format: what the worker's grammar cannot write of
  // a string is left to the model. Number bounds it cannot write are bounds no number meets, the
  // client's mistake, refused strict or not (as minLength above maxLength is).
  const stringKeyword = (keyword: string) => keyword === "pattern" || keyword === "minLength" || keyword === "maxLength";
  for (let scalar = scalarGrammar(relaxed); scalar !== undefined && "problem" in scalar && stringKeyword(scalar.keyword); scalar = scalarGrammar(relaxed)) delete relaxed[scalar.keyword];
  // A required name no property lists would never be generated; OpenAI's non-strict mode lets it go.
  if (Array.isArray(relaxed.required)) {
    const listed = isRecord(relaxed.properties) ? relaxed.properties : {};
    relaxed.required = relaxed.required.filter((name) => typeof name === "string" && Object.hasOwn(listed, name));
  }
  // `{}` (or only a description) takes any value: say so in a form the grammar enforces.
  if (!SHAPING.some((key) => key in relaxed)) relaxed.oneOf = [...ANY_JSON_VALUE];
  return relaxed;
}

const JSON_SCHEMA_TYPES: ReadonlySet<unknown> = new Set([...SCALAR_TYPES, "object", "array"]);

/** A `type` JSON Schema knows: one of its seven, or a list of them. */
function isJsonSchemaType(type: unknown): boolean {
  return JSON_SCHEMA_TYPES.has(type) || (Array.isArray(type) && type.length > 0 && type.every((each) => JSON_SCHEMA_TYPES.has(each)));
}

/**
 * `allOf` whose members (a `#/$defs/…` reference read as what it names) are all objects: one
 * object with every member's properties and required names, and without `additionalProperties`
 * (each member's would refuse the others' properties). Any other `allOf` is dropped.
 */
function mergedAllOf(schema: Record<string, unknown>, defs: Record<string, unknown>): Record<string, unknown> {
  const { allOf, ...rest } = schema;
  const members = [rest, ...(allOf as unknown[]).map((member) => dereferenced(member, defs))];
  const objectLike = (member: unknown) => isRecord(member) && (member.type === "object" || (member.type === undefined && isRecord(member.properties))) && !SHAPING.some((key) => key !== "type" && key in member);
  if (!members.slice(1).every(objectLike) || !(objectLike(rest) || !SHAPING.some((key) => key in rest))) return rest;
  const objects = members.filter(isRecord);
  // Merged from entries, not Object.assign: a `__proto__` key stays a key, not the result's prototype.
  const properties = Object.fromEntries(objects.flatMap((member) => (isRecord(member.properties) ? Object.entries(member.properties) : [])));
  const required = [...new Set(objects.flatMap((member) => (Array.isArray(member.required) ? member.required : [])))];
  const { additionalProperties: _own, ...merged } = Object.fromEntries(objects.flatMap((member) => Object.entries(member)));
  return { ...merged, type: "object", properties, ...(required.length === 0 ? {} : { required }) };
}

function dereferenced(member: unknown, defs: Record<string, unknown>): unknown {
  return (isRecord(member) && definitionNamed(member.$ref, defs)) || member;
}

/** The definition a `#/$defs/<name>` reference names, if `defs` holds it. */
function definitionNamed(ref: unknown, defs: Record<string, unknown>): Record<string, unknown> | undefined {
  const name = defsName(ref);
  const definition = name === undefined || !Object.hasOwn(defs, name) ? undefined : defs[name];
  return isRecord(definition) ? definition : undefined;
}
