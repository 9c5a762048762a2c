// A schema that is not strict loses only what the grammars cannot enforce: what is left keeps its
// structure and is all within what the grammars enforce.
import { describe, expect, it } from "vitest";
import { findUnsupportedSchemaPart } from "./json-schema-support.js";
import { relaxedSchema } from "./relaxed-schema.js";

describe("relaxed tool schemas", () => {
  it("drops what no grammar enforces and keeps types, properties, required, enums and the bounds a grammar writes", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        path: { type: "string", pattern: "^/", format: "uri", maxLength: 4096 },
        offset: { type: "integer", minimum: 0, multipleOf: 3 },
        mode: { type: "string", enum: ["r", "w"] },
        tags: { type: "array", items: { type: "string" }, uniqueItems: true },
      },
      required: ["path"],
      additionalProperties: false,
    };
    expect(relaxedSchema(schema)).toEqual({
      $schema: schema.$schema,
      type: "object",
      properties: {
        // A pattern and a length cannot both be written: the pattern, which shapes more, is kept.
        path: { type: "string", pattern: "^/", format: "uri" },
        offset: { type: "integer", minimum: 0 },
        mode: { type: "string", enum: ["r", "w"] },
        tags: { type: "array", items: { type: "string" } },
      },
      required: ["path"],
      additionalProperties: false,
    });
  });

  it("keeps a type JSON Schema does not have, so that it is refused by name rather than read as any JSON value", () => {
    const relaxed = relaxedSchema({ type: "object", properties: { when: { type: "strng" }, either: { type: ["string", "object"] } } });
    expect(relaxed).toMatchObject({ properties: { when: { type: "strng" } } });
    expect(findUnsupportedSchemaPart(relaxed)).toMatchObject({ path: "properties.when", reason: expect.stringContaining('type "strng"') });
    // A list of JSON Schema's own types the grammar cannot write as one is left to the model, as before.
    expect(findUnsupportedSchemaPart(relaxedSchema({ type: ["string", "object"] }))).toBeUndefined();
    expect(findUnsupportedSchemaPart(relaxedSchema({ type: "bogus" }))).toMatchObject({ path: "" });
  });

  it("keeps anyOf, makes an untyped schema any JSON value, and lets propertyNames go: all enforceable", () => {
    const schema = {
      type: "object",
      properties: {
        args: { description: "any JSON value" },
        either: { anyOf: [{ type: "string" }, { type: "number", minimum: 1 }] },
        meta: { type: "object", propertyNames: { type: "string" }, additionalProperties: {} },
      },
    };
    const relaxed = relaxedSchema(schema) as { properties: Record<string, Record<string, unknown>> };
    expect(relaxed.properties.either).toEqual({ anyOf: [{ type: "string" }, { type: "number", minimum: 1 }] });
    expect(relaxed.properties.args?.description).toBe("any JSON value");
    expect(relaxed.properties.args?.oneOf).toHaveLength(6);
    expect(relaxed.properties.meta?.propertyNames).toBeUndefined();
    expect(findUnsupportedSchemaPart(schema)).toBeDefined();
    expect(findUnsupportedSchemaPart(relaxed)).toBeUndefined();
  });

  it("loosens what no form of the grammar's takes: allOf of objects merged, not, if and outside references dropped", () => {
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      definitions: { base: { type: "object", properties: { id: { type: "string" } }, required: ["id"], additionalProperties: false } },
      type: "object",
      properties: {
        item: { allOf: [{ $ref: "#/definitions/base" }, { properties: { count: { type: "integer", minimum: 1 } }, required: ["count"] }] },
        either: { allOf: [{ type: "string" }, { maxLength: 3 }] },
        other: { type: "string", not: { const: "x" }, if: { minLength: 2 }, then: { pattern: "^a" } },
        remote: { $ref: "https://example.com/thing.json" },
      },
      required: ["item", "missing"],
      dependentRequired: { item: ["other"] },
    };
    const relaxed = relaxedSchema(schema) as { properties: Record<string, unknown>; required: string[] };
    expect(findUnsupportedSchemaPart(relaxed)).toBeUndefined();
    expect(relaxed.properties.item).toEqual({ type: "object", properties: { id: { type: "string" }, count: { type: "integer", minimum: 1 } }, required: ["id", "count"] });
    expect((relaxed.properties.either as { oneOf: unknown[] }).oneOf).toHaveLength(6); // any JSON: a bound on strings is not a merge of objects
    expect(relaxed.properties.other).toEqual({ type: "string" });
    expect((relaxed.properties.remote as { oneOf: unknown[] }).oneOf).toHaveLength(6);
    expect(relaxed.required).toEqual(["item"]);
  });
});
