// Rewrites a client's JSON Schema into the forms node-llama-cpp's grammar generator knows, without
// changing which values it takes. Frameworks write the same schema many ways: Pydantic and zod
// spell an optional field `anyOf` with null, zod 4's `.int()` adds the safe-integer bounds,
// draft-07 tools keep definitions under `definitions`, zod-to-json-schema points at a reused
// sub-schema by its place (`#/properties/home`), a recursive schema points at its root (`#`),
// old tuples are `items: [...]`, and a nullable object is `type: ["object", "null"]`. Each is
// rewritten to an equal schema the checker (json-schema-support.ts) and the generator accept:
// - `definitions` → `$defs`, and every other `#…` pointer (the root included) → a `$defs` entry
//   holding what it points at;
// - `items: [...]` → `prefixItems`, with `additionalItems` as the `items` after them, and
//   `items: false` after `prefixItems` (zod 4's tuples) → `maxItems`;
// - a schema that constrains nothing (`{}`, `true`: pydantic's Any, zod's unknown) → any JSON
//   value, spelled out; `propertyNames: {type: "string"}` (zod's records), which every key meets,
//   → dropped; OpenAPI's `nullable: true` → `null` among the types;
// - `type: [...]` naming an object or an array type, or beside keywords of one type (`minimum`,
//   `pattern`…) → one `oneOf` branch per type, each with its keywords;
// - integer bounds the grammar keeps anyway (it writes at most MAX_GRAMMAR_INTEGER) → dropped;
// - an integer between two bounds and a multiple of a step, with at most MAX_ENUMERATED_INTEGERS
//   values (even numbers 0–100) → the `enum` of those values (bounds alone have their own grammar).
// What cannot be rewritten exactly is left as it is, for the checker to refuse by name (a strict
// schema) or relaxed-schema.ts to loosen (one that is not strict). `anyOf` stays, so that errors
// name the client's keyword; asGeneratorSchema writes it as the generator's `oneOf` at the end.
import { isRecord } from "../shared/is-record.js";
import { MAX_GRAMMAR_INTEGER } from "./grammar-numbers.js";
import { GENERATED_GRAMMAR_KEY, scalarGrammar } from "./scalar-grammar.js";
import {
  ANNOTATION_KEYWORDS,
  ANY_JSON_VALUE,
  hasJsonType,
  schemaKind,
  SUBSCHEMA_KEYWORDS,
  SUBSCHEMA_LIST_KEYWORDS,
  SUBSCHEMA_MAP_KEYWORDS,
} from "./json-schema-support.js";

/** The most values an integer range is enumerated with; a wider range keeps its bounds (refused when strict). */
const MAX_ENUMERATED_INTEGERS = 256;

/** Keywords that say which values a schema takes, before any `type`. */
const BEFORE_TYPE = ["$ref", "oneOf", "anyOf", "allOf", "const", "enum"];

/** The keywords that apply to values of one JSON type only (JSON Schema's validation vocabulary). */
const TYPE_KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  object: ["properties", "required", "additionalProperties", "minProperties", "maxProperties", "patternProperties", "propertyNames", "dependentRequired", "dependentSchemas", "unevaluatedProperties"],
  array: ["items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "minContains", "maxContains", "unevaluatedItems"],
  string: ["minLength", "maxLength", "pattern", "format"],
  number: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
  integer: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
};

export function normalizedSchema(schema: unknown): unknown {
  if (!isRecord(schema)) return schema;
  const { $defs, definitions } = schema;
  if (($defs !== undefined && !isRecord($defs)) || (definitions !== undefined && !isRecord(definitions))) return schema;
  if (isRecord($defs) && isRecord(definitions) && Object.keys(definitions).some((name) => name in $defs)) return schema;
  return new Normalizer(schema).run();
}

class Normalizer {
  /** Pointer (its decoded segments) → the `$defs` name now holding what it points at. */
  private readonly hoisted = new Map<string, string>();
  private readonly pending: Array<{ name: string; target: Record<string, unknown> }> = [];
  private readonly names: Set<string>;

  constructor(private readonly root: Record<string, unknown>) {
    this.names = new Set([...Object.keys(asRecord(root.$defs)), ...Object.keys(asRecord(root.definitions))]);
  }

  run(): Record<string, unknown> {
    const { $defs, definitions, ...body } = this.root;
    const normalized = this.node(body);
    const defs: Record<string, unknown> = {};
    for (const [name, def] of Object.entries({ ...asRecord(definitions), ...asRecord($defs) })) defs[name] = this.node(def);
    // A hoisted target may point further, hoisting more.
    for (let index = 0; index < this.pending.length; index++) {
      const { name, target } = this.pending[index] as (typeof this.pending)[number];
      defs[name] = this.node(target);
    }
    if ($defs === undefined && definitions === undefined && this.pending.length === 0) return normalized;
    // A split type makes the root a oneOf; its $defs stay beside it.
    return { ...normalized, $defs: defs };
  }

  private node(schema: unknown): Record<string, unknown> {
    // `true` takes any value, as `{}` does.
    if (schema === true) return { oneOf: [...ANY_JSON_VALUE] };
    if (!isRecord(schema)) return schema as Record<string, unknown>;
    // Built from entries: a key such as `__proto__` stays a key the checker sees, not a prototype.
    // `#/$defs/x` names the root's definitions: nested ones are reached only by their place, which
    // `ref` hoists to the root; left here, the generator would let them shadow the root's.
    const own = Object.entries(schema).filter(([key]) => key !== "$defs" && key !== "definitions");
    const out: Record<string, unknown> = Object.fromEntries(own.map(([key, value]) => [key, this.keyword(key, value)]));
    if (Array.isArray(out.items) && out.prefixItems === undefined) tupleAsPrefixItems(out);
    if (typeof out.items === "boolean") itemsAfterPrefix(out);
    if (isStringKeys(out.propertyNames)) delete out.propertyNames;
    if (typeof out.nullable === "boolean") openApiNullable(out);
    if (typeof out.exclusiveMinimum === "boolean" || typeof out.exclusiveMaximum === "boolean") draft4ExclusiveBounds(out);
    if (Object.keys(out).every((key) => ANNOTATION_KEYWORDS.has(key))) out.oneOf = [...ANY_JSON_VALUE];
    if (Array.isArray(out.enum) && out.type !== undefined) narrowEnumToType(out);
    if (!Array.isArray(out.type)) return integerRewrites(out);
    const split = splitTypes(out);
    if (split !== out) split.oneOf = (split.oneOf as Record<string, unknown>[]).map(integerRewrites);
    return split;
  }

  /** A keyword's value, its subschemas normalized. */
  private keyword(key: string, value: unknown): unknown {
    if (key === "$ref" && typeof value === "string") return this.ref(value);
    if (key === "items" && Array.isArray(value)) return value.map((each) => this.node(each));
    // `additionalProperties: true` the generator reads as it is; boolean `items` itemsAfterPrefix rewrites.
    if ((key === "additionalProperties" || key === "items") && typeof value === "boolean") return value;
    if (SUBSCHEMA_KEYWORDS.has(key)) return this.node(value);
    if (SUBSCHEMA_MAP_KEYWORDS.has(key) && isRecord(value)) return Object.fromEntries(Object.entries(value).map(([name, each]) => [name, this.node(each)]));
    if (SUBSCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) return value.map((each) => this.node(each));
    return value;
  }

  /** `ref` as a `#/$defs/<name>` reference, hoisting what any other `#…` pointer names. */
  private ref(ref: string): string {
    // A root definition named plainly, as the generator reads it; escaped names are hoisted below.
    if (!ref.startsWith("#") || /^#\/\$defs\/[A-Za-z0-9_.-]+$/.test(ref)) return ref;
    const pointer = ref.slice(1);
    // Keyed by what the pointer names: its escaped spellings share one definition.
    const canonical = JSON.stringify(pointer.split("/").map(decodeSegment));
    const known = this.hoisted.get(canonical);
    if (known !== undefined) return `#/$defs/${known}`;
    if (pointer.startsWith("/definitions/")) {
      const name = decodeSegment(pointer.slice("/definitions/".length));
      if (name in asRecord(this.root.definitions)) return `#/$defs/${name}`;
    }
    const target = pointer === "" ? withoutDefs(this.root) : resolvePointer(this.root, pointer);
    if (!isRecord(target)) return ref;
    const name = this.freeName(pointer === "" ? "root" : decodeSegment(pointer.slice(pointer.lastIndexOf("/") + 1)));
    this.hoisted.set(canonical, name);
    this.pending.push({ name, target });
    return `#/$defs/${name}`;
  }

  private freeName(base: string): string {
    const stem = base.replace(/[^A-Za-z0-9_-]/g, "_") || "ref";
    let name = stem;
    for (let n = 2; this.names.has(name); n++) name = `${stem}_${n}`;
    this.names.add(name);
    return name;
  }
}

/**
 * `enum` beside a `type` takes the values of the enum that have the type (both must hold): the
 * generator would write any of the enum's values. An enum left empty takes nothing, which no
 * grammar writes: the checker refuses it by name.
 */
function narrowEnumToType(schema: Record<string, unknown>): void {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  schema.enum = (schema.enum as unknown[]).filter((value) => types.some((type) => hasJsonType(value, type)));
}

/** `items: false` (no items, or none after the prefix) as a count; `items: true` (any) as nothing. */
function itemsAfterPrefix(schema: Record<string, unknown>): void {
  const allowed = schema.items === true ? undefined : Array.isArray(schema.prefixItems) ? schema.prefixItems.length : 0;
  delete schema.items;
  if (allowed !== undefined && !(typeof schema.maxItems === "number" && schema.maxItems <= allowed)) schema.maxItems = allowed;
}

/** `propertyNames: {type: "string"}`: every key of a JSON object is a string already. */
function isStringKeys(propertyNames: unknown): boolean {
  return isRecord(propertyNames) && propertyNames.type === "string" && Object.keys(propertyNames).every((key) => key === "type" || ANNOTATION_KEYWORDS.has(key));
}

/**
 * OpenAPI 3.0's `nullable` beside a type: JSON Schema's type list, with null when true. Beside no
 * type (a $ref, an enum) it stays, for the checker to name.
 */
function openApiNullable(schema: Record<string, unknown>): void {
  const { nullable, type } = schema;
  if (nullable === true) {
    if (typeof type === "string") schema.type = [type, "null"];
    else if (Array.isArray(type)) schema.type = type.includes("null") ? type : [...type, "null"];
    else return;
  }
  delete schema.nullable;
}

/** Draft-04's (and OpenAPI 3.0's) `exclusiveMinimum: true` beside `minimum` as today's `exclusiveMinimum: <bound>`. */
function draft4ExclusiveBounds(schema: Record<string, unknown>): void {
  for (const [flag, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (typeof schema[flag] !== "boolean") continue;
    if (schema[flag] === true && typeof schema[bound] === "number") {
      schema[flag] = schema[bound];
      delete schema[bound];
    } else {
      delete schema[flag];
    }
  }
}

/**
 * The checked schema as node-llama-cpp's generator reads it: `anyOf` as its `oneOf` (a grammar's
 * alternatives are anyOf), and a string's or a number's constraints as the grammar the worker
 * writes for them (scalar-grammar.ts).
 */
export function asGeneratorSchema(schema: unknown): unknown {
  if (!isRecord(schema)) return schema;
  const generatorSchema: Record<string, unknown> = Object.fromEntries(
    Object.entries(schema).map(([key, value]) => {
      const name = key === "anyOf" && !("oneOf" in schema) ? "oneOf" : key;
      // Only where schemas sit: a property named anyOf, or an enum value holding one, is left alone.
      if (SUBSCHEMA_KEYWORDS.has(key)) return [name, asGeneratorSchema(value)];
      if (SUBSCHEMA_MAP_KEYWORDS.has(key) && isRecord(value)) return [name, Object.fromEntries(Object.entries(value).map(([each, sub]) => [each, asGeneratorSchema(sub)]))];
      if (SUBSCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) return [name, value.map(asGeneratorSchema)];
      return [name, value];
    }),
  );
  const kind = schemaKind(schema);
  const scalar = kind === "string" || kind === "number" ? scalarGrammar(schema) : undefined;
  if (scalar !== undefined && "problem" in scalar) throw new Error(`asGeneratorSchema was given an unchecked schema: ${scalar.keyword} ${scalar.problem}`);
  if (scalar === undefined) return generatorSchema;
  // node-llama-cpp checks a tool call's arguments against the schema it was given, and throws on a
  // format it has no rule for: the worker's grammar enforced the rest, so only the type is left.
  const described = Object.entries(generatorSchema).filter(([key]) => key === "type" || ANNOTATION_KEYWORDS.has(key));
  return { ...Object.fromEntries(described), [GENERATED_GRAMMAR_KEY]: scalar.grammar };
}

/** Draft-07's tuple (`items: [...]`, `additionalItems`) as 2020-12 writes it. */
function tupleAsPrefixItems(schema: Record<string, unknown>): void {
  const prefix = schema.items as unknown[];
  schema.prefixItems = prefix;
  delete schema.items;
  const { additionalItems } = schema;
  delete schema.additionalItems;
  if (additionalItems === false) {
    if (!(typeof schema.maxItems === "number" && schema.maxItems <= prefix.length)) schema.maxItems = prefix.length;
  } else if (isRecord(additionalItems)) {
    schema.items = additionalItems;
  }
}

function integerRewrites(schema: Record<string, unknown>): Record<string, unknown> {
  if (schema.type === "integer") {
    dropVacuousIntegerBounds(schema);
    enumerateSteppedRange(schema);
  }
  return schema;
}

/** The grammar writes integers of at most MAX_GRAMMAR_INTEGER either way: bounds beyond it hold already. */
function dropVacuousIntegerBounds(schema: Record<string, unknown>): void {
  const below = (key: string, limit: number) => typeof schema[key] === "number" && (schema[key] as number) <= limit;
  const above = (key: string, limit: number) => typeof schema[key] === "number" && (schema[key] as number) >= limit;
  if (below("minimum", -MAX_GRAMMAR_INTEGER)) delete schema.minimum;
  if (below("exclusiveMinimum", -MAX_GRAMMAR_INTEGER - 1)) delete schema.exclusiveMinimum;
  if (above("maximum", MAX_GRAMMAR_INTEGER)) delete schema.maximum;
  if (above("exclusiveMaximum", MAX_GRAMMAR_INTEGER + 1)) delete schema.exclusiveMaximum;
}

/**
 * An integer between two bounds and a multiple of `multipleOf` as the enum of its values, when
 * there are at most MAX_ENUMERATED_INTEGERS: the grammar enforces an enum, not a step.
 */
function enumerateSteppedRange(schema: Record<string, unknown>): void {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = schema;
  if (multipleOf === undefined) return;
  const finite = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
  const lows = [finite(minimum) ? Math.ceil(minimum) : undefined, finite(exclusiveMinimum) ? Math.floor(exclusiveMinimum) + 1 : undefined].filter(finite);
  const highs = [finite(maximum) ? Math.floor(maximum) : undefined, finite(exclusiveMaximum) ? Math.ceil(exclusiveMaximum) - 1 : undefined].filter(finite);
  if (lows.length === 0 || highs.length === 0 || "enum" in schema || "const" in schema) return;
  if (!(finite(multipleOf) && Number.isInteger(multipleOf) && multipleOf > 0)) return;
  const low = Math.max(...lows);
  const high = Math.min(...highs);
  const step = multipleOf;
  const first = Math.ceil(low / step) * step;
  if (first > high || (high - first) / step >= MAX_ENUMERATED_INTEGERS) return;
  const values: number[] = [];
  for (let value = first; value <= high; value += step) values.push(value);
  for (const key of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]) delete schema[key];
  schema.enum = values;
}

/**
 * `type: [...]` naming an object or an array type, or beside keywords of one type: one `oneOf`
 * branch per type, each with the keywords that apply to it (they apply to no other). Other arrays
 * of scalar types the generator takes as they are.
 */
function splitTypes(schema: Record<string, unknown>): Record<string, unknown> {
  const types = schema.type as unknown[];
  if (!types.every((type) => (typeof type === "string" && type in TYPE_KEYWORDS) || type === "boolean" || type === "null")) return schema;
  const typed = new Set(Object.values(TYPE_KEYWORDS).flat());
  const needsBranches = types.some((type) => type === "object" || type === "array") || Object.keys(schema).some((key) => typed.has(key));
  if (!needsBranches || BEFORE_TYPE.some((key) => key in schema)) return schema;
  const rest = Object.fromEntries(Object.entries(schema).filter(([key]) => key !== "type" && !typed.has(key)));
  const branches = (types as string[]).map((type) => ({
    type,
    ...Object.fromEntries((TYPE_KEYWORDS[type] ?? []).filter((key) => key in schema).map((key) => [key, schema[key]])),
  }));
  return { ...rest, oneOf: branches };
}

/** What a JSON pointer (RFC 6901, after the `#`) names in `root`, or undefined. */
function resolvePointer(root: unknown, pointer: string): unknown {
  if (!pointer.startsWith("/")) return undefined;
  let node = root;
  for (const segment of pointer.slice(1).split("/").map(decodeSegment)) {
    if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(segment)) node = node[Number(segment)];
    else if (isRecord(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

function decodeSegment(segment: string): string {
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // Not percent-encoded after all: read it as written.
  }
  return decoded.replaceAll("~1", "/").replaceAll("~0", "~");
}

function withoutDefs(schema: Record<string, unknown>): Record<string, unknown> {
  const { $defs: _defs, definitions: _definitions, ...rest } = schema;
  return rest;
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}
