// The worker's own grammars for bounds, patterns and formats, as the schema pipeline uses them:
// which schemas they take or refuse by keyword, that a client cannot hand the generator a grammar
// of its own, and that node-llama-cpp's generator (patched) writes the worker's expression as the
// value's rule. What the grammars themselves write is tested beside each (grammar-*.test.ts).
import { getLlama } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { formatGrammar } from "./grammar-formats.js";
import { findUnsupportedSchemaPart } from "./json-schema-support.js";
import { relaxedSchema } from "./relaxed-schema.js";
import { GENERATED_GRAMMAR_KEY, scalarGrammar } from "./scalar-grammar.js";
import { asGeneratorSchema, normalizedSchema } from "./schema-normalizer.js";

const check = (schema: unknown) => findUnsupportedSchemaPart(normalizedSchema(schema));

describe("the worker's grammars for bounds, patterns and formats", () => {
  it("take what OpenAI's strict mode enforces: bounds, a pattern, the common formats", () => {
    for (const schema of [
      { type: "integer", minimum: 0 },
      { type: "integer", exclusiveMinimum: 0, maximum: 9007199254740991 },
      { type: "number", minimum: 0, exclusiveMaximum: 100 },
      { type: "string", pattern: "^[A-Z]{3}-\\d{4}$" },
      { type: "string", format: "email" },
      { type: "string", format: "uuid" },
      { type: "string", format: "ipv4" },
      // pydantic's HttpUrl: lengths every written uri keeps.
      { type: "string", format: "uri", minLength: 1, maxLength: 2083 },
      // zod 4 writes a format with its own check as the pattern: the pattern is enforced.
      { type: "string", format: "uuid", pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" },
      // …or a check with a lookahead that the format's grammar keeps: the format is enforced.
      z.toJSONSchema(z.hostname()),
      z.toJSONSchema(z.iso.duration()),
    ]) {
      expect(check(schema), JSON.stringify(schema)).toBeUndefined();
      expect(scalarGrammar(schema), JSON.stringify(schema)).toHaveProperty("grammar");
    }
    expect(scalarGrammar(z.toJSONSchema(z.hostname()))).toEqual({ grammar: formatGrammar("hostname") });
    // The generator's own rules need no grammar of the worker's.
    expect(scalarGrammar({ type: "string", maxLength: 3 })).toBeUndefined();
    expect(scalarGrammar({ type: "string", format: "date" })).toBeUndefined();
    expect(scalarGrammar({ type: "integer" })).toBeUndefined();
  });

  it("refuse by keyword what they cannot write", () => {
    expect(check({ type: "string", pattern: "^(?=a)b" })).toMatchObject({ path: "pattern" });
    expect(check({ type: "string", pattern: 5 })).toMatchObject({ path: "pattern" });
    expect(check({ type: "string", pattern: "^a+$", maxLength: 4 })).toMatchObject({ path: "maxLength", reason: "cannot be enforced beside a pattern" });
    expect(check({ type: "integer", minimum: 5, maximum: 3 })).toMatchObject({ path: "minimum" });
    expect(check({ type: "number", maximum: "10" })).toMatchObject({ path: "maximum" });
    expect(check({ type: "string", format: "uri-template" })).toMatchObject({ path: "format" });
    expect(check({ type: "integer", enum: [1, 2], maximum: 1 })).toMatchObject({ path: "maximum", reason: '"maximum" cannot be enforced beside an enum' });
    expect(check({ type: "string", format: "uri", maxLength: 100 })).toMatchObject({ path: "maxLength", reason: "cannot be enforced beside a format" });
    expect(check({ type: "string", format: "date-time", minLength: 5 })).toMatchObject({ path: "minLength" });
  });

  it("never take a grammar from the client's schema", () => {
    const hostile = { type: "object", properties: { a: { type: "string", [GENERATED_GRAMMAR_KEY]: '"\\"" [a]* "\\""' } } };
    expect(check(hostile)).toMatchObject({ path: `properties.a.${GENERATED_GRAMMAR_KEY}` });
    expect(relaxedSchema(hostile)).toEqual({ type: "object", properties: { a: { type: "string" } } });
  });

  it("leave what they cannot write to the model where the schema is not strict", () => {
    expect(relaxedSchema({ type: "string", pattern: "^(?!x)[a-z]+$", format: "email" })).toEqual({ type: "string", format: "email" });
    expect(relaxedSchema({ type: "string", pattern: "^[a-z]+$", maxLength: 4 })).toEqual({ type: "string", pattern: "^[a-z]+$" });
    // Bounds no number meets are the client's mistake, refused strict or not.
    expect(findUnsupportedSchemaPart(relaxedSchema({ type: "integer", minimum: 5, maximum: 3 }))).toMatchObject({ path: "minimum" });
    expect(findUnsupportedSchemaPart(relaxedSchema({ type: "integer", exclusiveMinimum: 0, exclusiveMaximum: 1 }))).toMatchObject({ path: "exclusiveMinimum" });
    expect(relaxedSchema({ type: "string", format: "date", minLength: 1, maxLength: 3 })).toEqual({ type: "string", format: "date" });
  });

  it("reach node-llama-cpp's generator, which writes each as its value's rule", async () => {
    const schema = asGeneratorSchema(normalizedSchema({ type: "object", properties: { age: { type: "integer", minimum: 18 }, code: { type: "string", pattern: "^[A-Z]{2}$" } } })) as {
      properties: { age: Record<string, string>; code: Record<string, string> };
    };
    const age = schema.properties.age[GENERATED_GRAMMAR_KEY];
    const code = schema.properties.code[GENERATED_GRAMMAR_KEY];
    expect(typeof age === "string" && typeof code === "string").toBe(true);
    const llama = await getLlama({ build: "never", gpu: false });
    const { grammar } = await llama.createGrammarForJsonSchema(schema as Parameters<typeof llama.createGrammarForJsonSchema>[0]);
    expect(grammar).toContain(` ::= ${age}\n`);
    expect(grammar).toContain(` ::= ${code}\n`);
  });
});
