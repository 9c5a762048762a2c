// The parameters schema of a tool that is not `strict`, made into one the grammar can enforce:
// value bounds (minimum, pattern, uniqueItems, a format the grammar does not know…) are dropped,
// so the arguments keep the schema's structure (types, properties, required, enums) and the bounds
// are left to the model, as hosted APIs leave them without strict mode; `anyOf` becomes `oneOf`
// (a value matching one branch matches anyOf too). Agents such as Claude Code send schemas full of
// such bounds on every request, and refusing them would refuse the agent. A `strict` tool is not
// relaxed: what its schema says is enforced, or the request is refused (tool-functions.ts).

/** Assertions about a value that never change its shape: dropping one only loosens the schema. */
const VALUE_BOUNDS = new Set(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "pattern", "uniqueItems", "propertyNames"]);
/** String formats the grammar enforces (json-schema-support.ts); others are dropped like a bound. */
const ENFORCED_FORMATS = new Set(["date-time", "time", "date"]);
/** Keywords holding one subschema, or a map or list of them. */
const SUBSCHEMA = new Set(["items", "additionalProperties"]);
const SUBSCHEMA_MAPS = new Set(["properties", "$defs"]);
const SUBSCHEMA_LISTS = new Set(["prefixItems", "oneOf", "anyOf"]);
/** What says which values a schema takes; a schema with none of them takes any JSON value. */
const SHAPING = ["type", "const", "enum", "oneOf", "$ref"];
/** Any JSON value, in the terms the grammar knows. */
const ANY_JSON = [{ type: "string" }, { type: "number" }, { type: "boolean" }, { type: "null" }, { type: "array" }, { type: "object", additionalProperties: true }];

export function relaxedSchema(schema: unknown): unknown {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return schema;
  const relaxed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (VALUE_BOUNDS.has(key)) continue;
    if (key === "format" && !(typeof value === "string" && ENFORCED_FORMATS.has(value))) continue;
    if (SUBSCHEMA.has(key)) relaxed[key] = relaxedSchema(value);
    else if (SUBSCHEMA_MAPS.has(key) && typeof value === "object" && value !== null) relaxed[key] = Object.fromEntries(Object.entries(value).map(([name, each]) => [name, relaxedSchema(each)]));
    else if (SUBSCHEMA_LISTS.has(key) && Array.isArray(value)) relaxed[key === "anyOf" && !("oneOf" in schema) ? "oneOf" : key] = value.map(relaxedSchema);
    else relaxed[key] = value;
  }
  // `{}` (or only a description) takes any value: say so in a form the grammar enforces.
  if (!SHAPING.some((key) => key in relaxed)) relaxed.oneOf = ANY_JSON;
  return relaxed;
}
