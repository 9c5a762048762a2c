// The schemas frameworks write, rewritten into forms the grammar generator knows, each taking the
// same values as before; what has no such form is left for the checker to refuse by name.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { findUnsupportedSchemaPart } from "./json-schema-support.js";
import { relaxedSchema } from "./relaxed-schema.js";
import { asGeneratorSchema, normalizedSchema } from "./schema-normalizer.js";

describe("normalized schemas", () => {
  it("reads zod 4's schemas (safe-integer bounds, nullable and unions as anyOf, a draft-07 definition) as the generator's", () => {
    const Point = z.object({ x: z.number().int(), y: z.number().int() });
    const zodSchema = z.object({ from: Point, to: Point, nick: z.string().nullable(), pet: z.union([z.literal("cat"), z.object({ dog: z.boolean() })]) });
    const schema = z.toJSONSchema(zodSchema, { target: "draft-7", reused: "ref" }) as Record<string, unknown>;
    expect(findUnsupportedSchemaPart(schema)).toBeDefined();
    const normalized = normalizedSchema(schema) as { properties: Record<string, unknown>; $defs: Record<string, { properties: Record<string, unknown> }> };
    expect(findUnsupportedSchemaPart(normalized)).toBeUndefined();
    expect(normalized.properties.from).toEqual({ $ref: "#/$defs/__schema0" });
    expect(normalized.$defs.__schema0?.properties).toEqual({ x: { type: "integer" }, y: { type: "integer" } });
    expect(normalized.properties.pet).toEqual({ anyOf: [{ type: "string", const: "cat" }, expect.objectContaining({ type: "object" })] });
    // 2020-12 writes a nullable field with bounds as anyOf.
    expect(normalizedSchema(z.toJSONSchema(z.object({ nick: z.string().max(10).nullable() })))).toMatchObject({
      properties: { nick: { anyOf: [{ type: "string", maxLength: 10 }, { type: "null" }] } },
    });
  });

  it("keeps a bound the grammar's integers could break, and any bound of a number", () => {
    expect(normalizedSchema({ type: "integer", minimum: -1e15, maximum: 1e15 })).toEqual({ type: "integer" });
    expect(normalizedSchema({ type: "integer", maximum: 1e14 })).toEqual({ type: "integer", maximum: 1e14 });
    expect(normalizedSchema({ type: "number", minimum: -9007199254740991 })).toEqual({ type: "number", minimum: -9007199254740991 });
  });

  it("enumerates an integer range with a step, which the grammar enforces as an enum; bounds alone have their own grammar", () => {
    expect(normalizedSchema({ type: "integer", exclusiveMinimum: 0, exclusiveMaximum: 100, multipleOf: 25 })).toEqual({ type: "integer", enum: [25, 50, 75] });
    expect(normalizedSchema({ type: "integer", minimum: 1, maximum: 5 })).toEqual({ type: "integer", minimum: 1, maximum: 5 });
    expect(normalizedSchema({ type: "integer", minimum: 0 })).toEqual({ type: "integer", minimum: 0 });
    expect(findUnsupportedSchemaPart(normalizedSchema({ type: "object", properties: { stars: { type: "integer", minimum: 1, maximum: 5 } } }))).toBeUndefined();
    // Too many values: the step stays, for the checker to refuse when strict.
    const wide = { type: "integer", minimum: 0, maximum: 10000, multipleOf: 2 };
    expect(normalizedSchema(wide)).toEqual(wide);
    expect(findUnsupportedSchemaPart(normalizedSchema(wide))).toMatchObject({ path: "multipleOf" });
  });

  it("splits a type list beside one type's keywords into branches, each with its own", () => {
    expect(normalizedSchema({ type: ["integer", "null"], minimum: 0, description: "age" })).toEqual({ description: "age", oneOf: [{ type: "integer", minimum: 0 }, { type: "null" }] });
    expect(normalizedSchema({ type: ["string", "integer"], pattern: "^a", maximum: 1e20 })).toEqual({ oneOf: [{ type: "string", pattern: "^a" }, { type: "integer" }] });
    expect(findUnsupportedSchemaPart(normalizedSchema({ type: ["string", "null"], format: "email" }))).toBeUndefined();
  });

  it("gives a pointer into the schema (its root included) a definition of what it points at", () => {
    const tree = { type: "object", properties: { name: { type: "string" }, children: { type: "array", items: { $ref: "#" } } } };
    const normalized = normalizedSchema(tree);
    expect(normalized).toEqual({ ...tree, properties: { ...tree.properties, children: { type: "array", items: { $ref: "#/$defs/root" } } }, $defs: { root: { ...tree, properties: { ...tree.properties, children: { type: "array", items: { $ref: "#/$defs/root" } } } } } });
    expect(findUnsupportedSchemaPart(normalized)).toBeUndefined();

    const reused = { type: "object", properties: { home: { type: "object", properties: { city: { type: "string" } } }, work: { $ref: "#/properties/home" } } };
    expect(normalizedSchema(reused)).toEqual({ ...reused, properties: { ...reused.properties, work: { $ref: "#/$defs/home" } }, $defs: { home: reused.properties.home } });
    // A pointer to nothing, or outside the schema, is left for the checker to name.
    for (const $ref of ["#/properties/nope", "https://example.com/schema.json"]) {
      const normalizedRef = normalizedSchema({ type: "object", properties: { a: { $ref } } });
      expect(findUnsupportedSchemaPart(normalizedRef)).toMatchObject({ path: "properties.a.$ref" });
    }
  });

  it("writes a draft-07 tuple as prefixItems and a nullable object as one branch per type", () => {
    expect(normalizedSchema({ type: "array", items: [{ type: "string" }, { type: "integer" }], additionalItems: false })).toEqual({
      type: "array",
      prefixItems: [{ type: "string" }, { type: "integer" }],
      maxItems: 2,
    });
    expect(normalizedSchema({ type: "array", items: [{ type: "string" }], additionalItems: { type: "boolean" } })).toEqual({ type: "array", prefixItems: [{ type: "string" }], items: { type: "boolean" } });
    const nullable = normalizedSchema({ description: "an owner", type: ["object", "null"], properties: { id: { type: "string" } }, required: ["id"] });
    expect(nullable).toEqual({ description: "an owner", oneOf: [{ type: "object", properties: { id: { type: "string" } }, required: ["id"] }, { type: "null" }] });
    expect(findUnsupportedSchemaPart(nullable)).toBeUndefined();
  });

  it("spells out what constrains nothing (zod's records and tuples, pydantic's Any, OpenAPI's nullable) in the generator's terms", () => {
    const zod = z.toJSONSchema(z.object({ counts: z.record(z.string(), z.number().int()), pair: z.tuple([z.string(), z.boolean()]), anything: z.unknown() }));
    const normalized = normalizedSchema(zod) as { properties: Record<string, Record<string, unknown>> };
    expect(findUnsupportedSchemaPart(normalized)).toBeUndefined();
    expect(normalized.properties.counts).toEqual({ type: "object", additionalProperties: { type: "integer" } });
    expect(normalized.properties.pair).toEqual({ type: "array", prefixItems: [{ type: "string" }, { type: "boolean" }], minItems: 2, maxItems: 2 });
    expect(normalized.properties.anything?.oneOf).toHaveLength(6);
    expect(normalizedSchema({ type: "object", properties: { any: true } })).toMatchObject({ properties: { any: { oneOf: expect.any(Array) } } });
    expect(normalizedSchema({ type: "string", nullable: true })).toEqual({ type: ["string", "null"] });
    expect(normalizedSchema({ type: "object", nullable: true, properties: {} })).toEqual({ oneOf: [{ type: "object", properties: {} }, { type: "null" }] });
    // A discriminator names what the branches' consts enforce already.
    const pet = { oneOf: [{ type: "object", properties: { kind: { const: "cat" } } }, { type: "object", properties: { kind: { const: "dog" } } }], discriminator: { propertyName: "kind" } };
    expect(findUnsupportedSchemaPart(normalizedSchema(pet))).toBeUndefined();
  });

  it("writes anyOf as the generator's oneOf only at the end, and only where schemas sit", () => {
    const schema = { type: "object", properties: { anyOf: { anyOf: [{ type: "string" }, { type: "null" }] } }, $defs: { x: { anyOf: [{ const: { anyOf: 1 } }] } } };
    expect(asGeneratorSchema(schema)).toEqual({ type: "object", properties: { anyOf: { oneOf: [{ type: "string" }, { type: "null" }] } }, $defs: { x: { oneOf: [{ const: { anyOf: 1 } }] } } });
  });

  it("takes of an enum beside a type only the values of that type, and refuses one left with none", () => {
    expect(normalizedSchema({ type: "string", enum: ["x", 1, "y"] })).toEqual({ type: "string", enum: ["x", "y"] });
    expect(normalizedSchema({ type: ["integer", "null"], enum: [1, 1.5, null, "2"] })).toEqual({ type: ["integer", "null"], enum: [1, null] });
    expect(findUnsupportedSchemaPart(normalizedSchema({ type: "string", enum: [1] }))).toMatchObject({ path: "enum" });
    expect(findUnsupportedSchemaPart({ type: "integer", const: "x" })).toMatchObject({ path: "const", reason: expect.stringContaining("no value fits both") });
    expect(findUnsupportedSchemaPart({ type: "string", const: "x" })).toBeUndefined();
  });

  it("keeps a `__proto__` keyword a key, for the checker to refuse, not the schema's prototype", () => {
    const hostile = JSON.parse('{"type": "object", "properties": {"a": {"__proto__": {"type": "string"}}}}') as unknown;
    expect(findUnsupportedSchemaPart(normalizedSchema(hostile))).toMatchObject({ path: "properties.a", reason: expect.stringContaining('"__proto__"') });
    expect(findUnsupportedSchemaPart(relaxedSchema(hostile))).toBeUndefined();
  });

  it("leaves what it cannot rewrite exactly for the checker to refuse", () => {
    for (const [schema, path] of [
      [{ type: "integer", minimum: 3, multipleOf: 7 }, "multipleOf"],
      [{ type: "string", pattern: "^(?=a)" }, "pattern"],
      [{ allOf: [{ type: "string" }] }, ""],
      [{ $defs: [], type: "string" }, "$defs"],
    ] as const) {
      expect(findUnsupportedSchemaPart(normalizedSchema(schema)), JSON.stringify(schema)).toMatchObject({ path });
    }
  });
});
