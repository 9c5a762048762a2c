// Checks that a client's JSON Schema uses only what the worker's grammars enforce: node-llama-cpp's
// generator, and the worker's own rules for bounds, patterns and formats (scalar-grammar.ts). The
// generator silently drops what it does not know (`anyOf`, `uniqueItems`, `not`…) or turns it
// into "any JSON", so without this check a response could parse yet not match the schema the
// client sent. The response-format and tool code call it before building a grammar, on a schema
// normalized first (schema-normalizer.ts) and, unless it is strict, relaxed (relaxed-schema.ts).
import { isRecord } from "../shared/is-record.js";
import { GRAMMAR_FORMATS } from "./grammar-formats.js";
import { scalarGrammar } from "./scalar-grammar.js";

export interface UnsupportedSchemaPart {
  /** Where in the schema, e.g. `properties.age.minimum`; empty for the root. */
  path: string;
  reason: string;
}

/** JSON Schema's types other than object and array. */
export const SCALAR_TYPES: ReadonlySet<string> = new Set(["string", "number", "integer", "boolean", "null"]);
/** String formats the grammars enforce (the generator's own and grammar-formats.ts's); relaxed-schema.ts drops others like a bound. */
export const ENFORCED_STRING_FORMATS: ReadonlySet<string> = new Set(["date-time", "time", "date", ...GRAMMAR_FORMATS]);

/** Keywords holding one subschema: where the schema walkers (normalizer, relaxer, generator form) recurse. */
export const SUBSCHEMA_KEYWORDS: ReadonlySet<string> = new Set(["items", "additionalProperties", "additionalItems", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties"]);
/** Keywords holding a map of subschemas. */
export const SUBSCHEMA_MAP_KEYWORDS: ReadonlySet<string> = new Set(["properties", "$defs", "definitions", "patternProperties", "dependentSchemas"]);
/** Keywords holding a list of subschemas. */
export const SUBSCHEMA_LIST_KEYWORDS: ReadonlySet<string> = new Set(["oneOf", "anyOf", "allOf", "prefixItems"]);

const DEFS_PREFIX = "#/$defs/";

/** The definition name a `#/$defs/<name>` reference gives, or undefined for any other. */
export function defsName(ref: unknown): string | undefined {
  return typeof ref === "string" && ref.startsWith(DEFS_PREFIX) ? ref.slice(DEFS_PREFIX.length) : undefined;
}
/**
 * Keywords that describe but never constrain, so ignoring them keeps the output valid. OpenAPI's
 * `discriminator` names the property a oneOf's branches differ by: their own consts enforce it.
 */
const ANNOTATIONS = ["title", "description", "$schema", "$id", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly", "discriminator"];

/**
 * Any JSON value, in the terms the generator knows: what a schema that constrains nothing (`{}`,
 * `true`) takes.
 */
export const ANY_JSON_VALUE: readonly Record<string, unknown>[] = [
  { type: "string" },
  { type: "number" },
  { type: "boolean" },
  { type: "null" },
  { type: "array" },
  { type: "object", additionalProperties: true },
];

/** Keywords each kind of schema may use, beyond the annotations. */
const ALLOWED_KEYWORDS = {
  ref: ["$ref", "$defs"],
  oneOf: ["oneOf", "$defs"],
  // A grammar's alternatives take a value matching any branch: anyOf exactly (asGeneratorSchema writes it as oneOf).
  anyOf: ["anyOf", "$defs"],
  // A `type` next to const or enum is redundant when the values have that type, as OpenAI's strict examples write it.
  const: ["const", "type"],
  enum: ["enum", "type"],
  object: ["type", "properties", "required", "additionalProperties", "minProperties", "maxProperties", "$defs"],
  array: ["type", "items", "prefixItems", "minItems", "maxItems", "$defs"],
  string: ["type", "minLength", "maxLength", "format", "pattern"],
  number: ["type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
  scalar: ["type"],
} as const;

/** The first part of `schema` node-llama-cpp would not enforce, or undefined when all of it is enforced. */
export function findUnsupportedSchemaPart(schema: unknown): UnsupportedSchemaPart | undefined {
  return tooLarge(schema) ?? check(schema, "", new Map());
}

/**
 * What a schema may hold at most: node-llama-cpp's generator walks every definition at each
 * `$ref`, so 5,000 of each took it 10 s, with the worker's event loop held all that while, and a
 * 60,000-value enum 13 s. These leave a schema far beyond any framework's room to build in well
 * under a second.
 */
const MAX_DEFINITIONS = 1000;
const MAX_REFS = 2000;
const MAX_ENUM_VALUES = 4096;
/** Characters of all `pattern`s together: compiling them costs ~10 µs a character on a slow CPU (grammar-pattern.ts). */
const MAX_PATTERN_CHARACTERS = 100_000;

/** The first limit the schema passes, counted over the whole of it. */
function tooLarge(schema: unknown): UnsupportedSchemaPart | undefined {
  let definitions = 0;
  let refs = 0;
  let patternCharacters = 0;
  const visit = (node: unknown, path: string): UnsupportedSchemaPart | undefined => {
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) {
        const problem = visit(item, `${path}[${index}]`);
        if (problem) return problem;
      }
      return undefined;
    }
    if (!isRecord(node)) return undefined;
    if (isRecord(node.$defs) && (definitions += Object.keys(node.$defs).length) > MAX_DEFINITIONS) {
      return { path: join(path, "$defs"), reason: `more than ${MAX_DEFINITIONS} definitions in the schema; the grammar would take too long to build` };
    }
    if (typeof node.$ref === "string" && ++refs > MAX_REFS) return { path: join(path, "$ref"), reason: `more than ${MAX_REFS} $refs in the schema; the grammar would take too long to build` };
    if (Array.isArray(node.enum) && node.enum.length > MAX_ENUM_VALUES) return { path: join(path, "enum"), reason: `more than ${MAX_ENUM_VALUES} values; the grammar would take too long to build` };
    if (typeof node.pattern === "string" && (patternCharacters += node.pattern.length) > MAX_PATTERN_CHARACTERS) {
      return { path: join(path, "pattern"), reason: `patterns of more than ${MAX_PATTERN_CHARACTERS} characters in all in the schema; the grammar would take too long to build` };
    }
    for (const [key, value] of Object.entries(node)) {
      // An enum's or a const's values are not schemas.
      if (key === "enum" || key === "const") continue;
      const problem = visit(value, join(path, key));
      if (problem) return problem;
    }
    return undefined;
  };
  return visit(schema, "");
}

export type SchemaKind = keyof typeof ALLOWED_KEYWORDS;

/** Where a keyword was found that its schema's kind does not take, for the refusal's message. */
const KIND_PLACES: Readonly<Record<SchemaKind, string>> = {
  ref: "beside a $ref",
  oneOf: "beside oneOf",
  anyOf: "beside anyOf",
  const: "beside a const",
  enum: "beside an enum",
  object: "on an object",
  array: "on an array",
  string: "on a string",
  number: "on a number",
  scalar: "on a boolean, a null or a list of types",
};

/** The keywords a schema of `kind` may use: the generator enforces them all. */
export function enforcedKeywords(kind: SchemaKind): ReadonlySet<string> {
  return new Set([...ALLOWED_KEYWORDS[kind], ...ANNOTATIONS]);
}

/** Keywords that describe but never constrain. */
export const ANNOTATION_KEYWORDS: ReadonlySet<string> = new Set(ANNOTATIONS);

/** The definitions a `$ref` may name where the schema is checked, by name. */
type Definitions = ReadonlyMap<string, unknown>;

function check(schema: unknown, path: string, defsInScope: Definitions): UnsupportedSchemaPart | undefined {
  if (!isRecord(schema)) return { path, reason: "expected a schema object" };
  const kind = schemaKind(schema);
  if (typeof kind !== "string") return { path, reason: kind.reason };

  const allowed = enforcedKeywords(kind);
  const extra = Object.keys(schema).find((key) => !allowed.has(key));
  if (extra !== undefined) return { path: join(path, extra), reason: `"${extra}" cannot be enforced ${KIND_PLACES[kind]}` };

  const defs = schema.$defs;
  let scope = defsInScope;
  if (defs !== undefined) {
    if (!isRecord(defs)) return { path: join(path, "$defs"), reason: "expected an object of schemas" };
    scope = new Map([...defsInScope, ...Object.entries(defs)]);
    for (const [name, def] of Object.entries(defs)) {
      const problem = check(def, join(path, `$defs.${name}`), scope);
      if (problem) return problem;
    }
  }
  return checkKind(kind, schema, path, scope);
}

/** What kind of schema the generator reads `schema` as, or why it reads it as none. */
export function schemaKind(schema: Record<string, unknown>): SchemaKind | { reason: string } {
  // The same order of precedence as node-llama-cpp's generator.
  if ("$ref" in schema) return "ref";
  if ("oneOf" in schema) return "oneOf";
  if ("anyOf" in schema) return "anyOf";
  if ("const" in schema) return "const";
  if ("enum" in schema) return "enum";
  const { type } = schema;
  if (type === "object") return "object";
  if (type === "array") return "array";
  if (type === "string") return "string";
  if (type === "number" || type === "integer") return "number";
  if (typeof type === "string" && SCALAR_TYPES.has(type)) return "scalar";
  if (Array.isArray(type) && type.length > 0 && type.every((item) => typeof item === "string" && SCALAR_TYPES.has(item))) {
    return "scalar";
  }
  if (type === undefined) {
    const unknown = Object.keys(schema).find((key) => !ANNOTATIONS.includes(key));
    if (unknown !== undefined) return { reason: `"${unknown}" cannot be enforced; use type, const, enum, anyOf, oneOf or $ref` };
    return { reason: "a schema needs a type, const, enum, anyOf, oneOf or $ref" };
  }
  return { reason: `type ${JSON.stringify(type)} is not supported; use object, array, string, number, integer, boolean or null` };
}

function checkKind(kind: SchemaKind, schema: Record<string, unknown>, path: string, defs: Definitions): UnsupportedSchemaPart | undefined {
  switch (kind) {
    case "ref": {
      const name = defsName(schema.$ref);
      if (name === undefined || !defs.has(name)) {
        return { path: join(path, "$ref"), reason: 'expected "#/$defs/<name>" naming a definition in $defs' };
      }
      return refCycle(name, defs) ? { path: join(path, "$ref"), reason: "its definitions only refer to each other in a circle: no value is ever described" } : undefined;
    }
    case "oneOf":
      return checkList(schema.oneOf, join(path, "oneOf"), defs);
    case "anyOf":
      return checkList(schema.anyOf, join(path, "anyOf"), defs);
    case "const": {
      if (!isLiteral(schema.const)) return { path: join(path, "const"), reason: "expected a string, number, boolean or null" };
      const unwritable = unwritableText(schema.const);
      if (unwritable) return { path: join(path, "const"), reason: unwritable };
      const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
      if (types.length > 0 && !types.some((type) => hasJsonType(schema.const, type))) {
        return { path: join(path, "const"), reason: `${JSON.stringify(schema.const)} is not of type ${JSON.stringify(schema.type)}: no value fits both` };
      }
      return undefined;
    }
    case "enum": {
      const values = schema.enum;
      if (!(Array.isArray(values) && values.length > 0 && values.every(isLiteral))) {
        return { path: join(path, "enum"), reason: "expected a non-empty array of strings, numbers, booleans or null" };
      }
      for (const [index, value] of values.entries()) {
        const unwritable = unwritableText(value);
        if (unwritable) return { path: join(path, `enum[${index}]`), reason: unwritable };
      }
      return undefined;
    }
    case "object":
      return checkObject(schema, path, defs);
    case "array": {
      if (schema.items !== undefined) {
        const problem = check(schema.items, join(path, "items"), defs);
        if (problem) return problem;
      }
      if (schema.prefixItems !== undefined) {
        const problem = checkList(schema.prefixItems, join(path, "prefixItems"), defs);
        if (problem) return problem;
        // The generator writes every prefix item: fewer allowed than that is a schema nothing fits.
        if (Array.isArray(schema.prefixItems) && typeof schema.maxItems === "number" && schema.maxItems < schema.prefixItems.length) {
          return { path: join(path, "maxItems"), reason: `fewer than the ${schema.prefixItems.length} prefixItems the answer must hold` };
        }
      }
      return checkCounts(schema, path, ["minItems", "maxItems"]);
    }
    case "string": {
      const { format } = schema;
      // Beside a pattern, the pattern is what is enforced (scalar-grammar.ts): any format it describes is taken.
      if (schema.pattern === undefined && format !== undefined && !(typeof format === "string" && ENFORCED_STRING_FORMATS.has(format))) {
        return { path: join(path, "format"), reason: `only the formats ${[...ENFORCED_STRING_FORMATS].join(", ")} can be enforced` };
      }
      return checkCounts(schema, path, ["minLength", "maxLength"]) ?? scalarProblem(schema, path);
    }
    case "number":
      return scalarProblem(schema, path);
    case "scalar":
      return undefined;
  }
}

/** Why the worker's own grammar cannot enforce a string's or a number's constraints, if it cannot. */
function scalarProblem(schema: Record<string, unknown>, path: string): UnsupportedSchemaPart | undefined {
  const grammar = scalarGrammar(schema);
  return grammar !== undefined && "problem" in grammar ? { path: join(path, grammar.keyword), reason: grammar.problem } : undefined;
}

function checkObject(schema: Record<string, unknown>, path: string, defs: Definitions): UnsupportedSchemaPart | undefined {
  const properties = schema.properties ?? {};
  if (!isRecord(properties)) return { path: join(path, "properties"), reason: "expected an object of schemas" };
  for (const [name, property] of Object.entries(properties)) {
    const unwritable = unwritableText(name);
    if (unwritable) return { path: join(path, "properties"), reason: `the property name ${JSON.stringify(name)}: ${unwritable}` };
    const problem = check(property, join(path, `properties.${name}`), defs);
    if (problem) return problem;
  }
  // node-llama-cpp makes every listed property required, which satisfies any `required` list
  // naming listed properties; a required name that is not listed would never be generated.
  const { required, additionalProperties } = schema;
  if (required !== undefined) {
    if (!Array.isArray(required) || !required.every((name) => typeof name === "string" && Object.hasOwn(properties, name))) {
      return { path: join(path, "required"), reason: "expected names of listed properties" };
    }
  }
  if (isRecord(additionalProperties)) {
    const problem = check(additionalProperties, join(path, "additionalProperties"), defs);
    if (problem) return problem;
  } else if (additionalProperties !== undefined && typeof additionalProperties !== "boolean") {
    return { path: join(path, "additionalProperties"), reason: "expected a boolean or a schema" };
  }
  // The generator writes every listed property, and others only where additionalProperties takes them.
  const listed = Object.keys(properties).length;
  if (typeof schema.maxProperties === "number" && schema.maxProperties < listed) {
    return { path: join(path, "maxProperties"), reason: `fewer than the ${listed} listed properties, each of which the answer holds` };
  }
  const more = isRecord(additionalProperties) || additionalProperties === true;
  if (typeof schema.minProperties === "number" && schema.minProperties > listed && !more) {
    return { path: join(path, "minProperties"), reason: `more than the ${listed} listed properties, and no others are allowed` };
  }
  return checkCounts(schema, path, ["minProperties", "maxProperties"]);
}

/** Whether `name`'s definition only refers on, through definitions that do the same, back to one already passed. */
function refCycle(name: string, defs: Definitions): boolean {
  const passed = new Set<string>();
  let current: string | undefined = name;
  while (current !== undefined) {
    if (passed.has(current)) return true;
    passed.add(current);
    const def = defs.get(current);
    const onlyRefers = isRecord(def) && Object.keys(def).every((key) => key === "$ref" || key === "$defs" || ANNOTATIONS.includes(key));
    current = onlyRefers ? defsName(def.$ref) : undefined;
  }
  return false;
}

/**
 * Why the grammar cannot write `value` inside a JSON string, if it cannot: node-llama-cpp escapes
 * tab, newline, carriage return, quote and backslash, and would write any other control character
 * raw (not JSON), and a lone surrogate is no character at all.
 */
function unwritableText(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.exec(value);
  if (control) return `holds the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}, which the grammar cannot write escaped`;
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) return "holds a lone surrogate, which is no character";
  return undefined;
}

function checkList(list: unknown, path: string, defs: Definitions): UnsupportedSchemaPart | undefined {
  if (!Array.isArray(list) || list.length === 0) return { path, reason: "expected a non-empty array of schemas" };
  for (const [index, item] of list.entries()) {
    const problem = check(item, `${path}[${index}]`, defs);
    if (problem) return problem;
  }
  return undefined;
}

/** `keys`: a lower and an upper bound, each a count when set, the lower not above the upper. */
function checkCounts(schema: Record<string, unknown>, path: string, keys: readonly [string, string]): UnsupportedSchemaPart | undefined {
  for (const key of keys) {
    const value = schema[key];
    if (value !== undefined && !(Number.isInteger(value) && typeof value === "number" && value >= 0)) {
      return { path: join(path, key), reason: "expected a non-negative integer" };
    }
  }
  const [low, high] = keys.map((key) => schema[key]);
  if (typeof low === "number" && typeof high === "number" && low > high) return { path: join(path, keys[0]), reason: `above ${keys[1]} (${high}): no value fits` };
  return undefined;
}

/** Whether `value` is of JSON Schema's `type`. */
export function hasJsonType(value: unknown, type: unknown): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "string":
    case "boolean":
      return typeof value === type;
    case "array":
      return Array.isArray(value);
    case "object":
      return isRecord(value);
    default:
      return false;
  }
}

function isLiteral(value: unknown): boolean {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}
