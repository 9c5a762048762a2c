// What the checker refuses before a grammar is built from a schema (normalized first, as the
// worker does): schemas too large to build a grammar for quickly, definitions that only refer to
// each other, text the grammar cannot write inside JSON, and bounds no answer could meet. Each was
// accepted once, and answered with a hung worker, a 500, or output the schema does not allow.
import { describe, expect, it } from "vitest";
import { findUnsupportedSchemaPart } from "./json-schema-support.js";
import { normalizedSchema } from "./schema-normalizer.js";

const check = (schema: unknown) => findUnsupportedSchemaPart(normalizedSchema(schema));

describe("the schema checker", () => {
  it("refuses schemas too large to build a grammar for quickly", () => {
    const defs = Object.fromEntries(Array.from({ length: 1001 }, (_, index) => [`d${index}`, { type: "integer" }]));
    expect(check({ type: "object", $defs: defs })).toMatchObject({ path: "$defs", reason: expect.stringContaining("more than 1000 definitions") });
    const refs = Object.fromEntries(Array.from({ length: 2001 }, (_, index) => [`p${index}`, { $ref: "#/$defs/d" }]));
    expect(check({ type: "object", $defs: { d: { type: "integer" } }, properties: refs })).toMatchObject({ reason: expect.stringContaining("more than 2000 $refs") });
    expect(check({ enum: Array.from({ length: 4097 }, (_, index) => `v${index}`) })).toMatchObject({ path: "enum", reason: expect.stringContaining("more than 4096 values") });
    const patterns = Object.fromEntries(Array.from({ length: 11 }, (_, index) => [`p${index}`, { type: "string", pattern: "a".repeat(10_000) }]));
    expect(check({ type: "object", properties: patterns })).toMatchObject({ path: "properties.p10.pattern", reason: expect.stringContaining("more than 100000 characters") });
    // Aliases of one pointer share one definition, not a copy each.
    const aliased = normalizedSchema({ type: "object", properties: { t: { type: "string" }, a: { $ref: "#/properties/t" }, b: { $ref: "#/%70roperties/t" } } }) as { $defs: object };
    expect(Object.keys(aliased.$defs)).toEqual(["t"]);
  });

  it("refuses definitions that only refer to each other, which describe no value", () => {
    for (const schema of [{ $ref: "#" }, { type: "object", properties: { a: { $ref: "#/$defs/a" } }, $defs: { a: { $ref: "#/$defs/a" } } }, { $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } }, $ref: "#/$defs/a" }]) {
      expect(check(schema), JSON.stringify(schema)).toMatchObject({ reason: expect.stringContaining("in a circle") });
    }
    // Recursion through a real schema is fine.
    expect(check({ type: "object", properties: { child: { $ref: "#" } } })).toBeUndefined();
  });

  it("refuses text the grammar cannot write inside JSON: control characters and lone surrogates", () => {
    expect(check({ const: "x\u0002" })).toMatchObject({ path: "const", reason: expect.stringContaining("U+0002") });
    expect(check({ enum: ["ok", "a\bb"] })).toMatchObject({ path: "enum[1]", reason: expect.stringContaining("U+0008") });
    expect(check({ type: "object", properties: { "a\u001fb": { type: "string" } } })).toMatchObject({ path: "properties", reason: expect.stringContaining("U+001F") });
    expect(check({ enum: ["\ud800"] })).toMatchObject({ reason: expect.stringContaining("lone surrogate") });
    // Tab, newline, quote and backslash the grammar escapes.
    expect(check({ enum: ["a\tb\nc\"d\\e", "😀"] })).toBeUndefined();
  });

  it("refuses bounds no answer could meet, and a required name only inherited", () => {
    expect(check({ type: "object", properties: { a: { type: "string" } }, required: ["a", "toString"] })).toMatchObject({ path: "required" });
    expect(check({ type: "array", prefixItems: [{ type: "string" }, { type: "string" }], maxItems: 1 })).toMatchObject({ path: "maxItems" });
    expect(check({ type: "string", minLength: 5, maxLength: 2 })).toMatchObject({ path: "minLength", reason: expect.stringContaining("no value fits") });
    expect(check({ type: "array", items: { type: "string" }, minItems: 3, maxItems: 2 })).toMatchObject({ path: "minItems" });
    expect(check({ type: "string", format: "date", maxLength: 3 })).toMatchObject({ path: "maxLength" });
    expect(check({ type: "object", properties: { a: { type: "string" }, b: { type: "string" } }, maxProperties: 1 })).toMatchObject({ path: "maxProperties" });
    expect(check({ type: "object", properties: { a: { type: "string" } }, minProperties: 3, additionalProperties: false })).toMatchObject({ path: "minProperties" });
    expect(check({ type: "object", properties: { a: { type: "string" } }, minProperties: 2, additionalProperties: { type: "integer" } })).toBeUndefined();
  });

  it("reads `#/$defs/x` as the root's definition, never a nested one of the same name", () => {
    const schema = {
      type: "object",
      $defs: { x: { type: "integer" } },
      properties: { p: { type: "object", $defs: { x: { type: "string" } }, properties: { v: { $ref: "#/$defs/x" } } }, q: { $ref: "#/properties/p/$defs/x" } },
    };
    const normalized = normalizedSchema(schema) as { properties: { p: Record<string, unknown>; q: { $ref: string } }; $defs: Record<string, unknown> };
    expect(normalized.properties.p.$defs).toBeUndefined();
    expect(normalized.$defs.x).toEqual({ type: "integer" });
    expect(normalized.$defs[normalized.properties.q.$ref.slice("#/$defs/".length)]).toEqual({ type: "string" });
    expect(findUnsupportedSchemaPart(normalized)).toBeUndefined();
  });

  it("reads draft-04's boolean exclusiveMinimum and exclusiveMaximum, as OpenAPI 3.0 tools write them", () => {
    expect(normalizedSchema({ type: "integer", minimum: 0, maximum: 3, exclusiveMinimum: true, exclusiveMaximum: false })).toEqual({ type: "integer", maximum: 3, exclusiveMinimum: 0 });
  });
});
