// A JSON Schema inside a request: a tool's `parameters`, a response format's `schema`, and the
// Responses and Anthropic dialects' names for them. Any JSON object passes here (the worker
// refuses the parts its grammar cannot enforce, json-schema-support.ts), as long as it is not
// nested deeper than MAX_SCHEMA_DEPTH: the worker relaxes and checks schemas, and node-llama-cpp
// turns them into grammars, by recursion, which a schema thousands of levels deep overflows.
import { z } from "zod";
import { pathDeeperThan } from "../json-nesting.js";

/**
 * Most levels of objects and arrays in one schema, counting the schema itself as one. A property
 * of an object is two levels below it (`properties`, then the property); agents' tool schemas
 * are a handful of levels deep, and OpenAI's strict mode refuses more than 10 levels of object
 * nesting. 64 leaves room for any real schema and keeps every recursive walk far from the stack's end.
 */
export const MAX_SCHEMA_DEPTH = 64;

export const JsonSchemaField = z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
  if (pathDeeperThan(schema, MAX_SCHEMA_DEPTH) === undefined) return;
  ctx.addIssue({ code: "custom", message: `nested more than ${MAX_SCHEMA_DEPTH} levels of objects and arrays deep; a schema needs only a handful` });
});
