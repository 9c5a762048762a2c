// JSON output on the real worker process: response_format json_object and json_schema are forced
// by a grammar, so even the random tiny model's answers parse and match the schema.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  json,
  MODEL_NAME,
  parseSse,
  post,
  startWorker,
  writeTinyModel,
  type ChatChunkBody,
  type ChatCompletionBody,
  type ErrorBody,
  type RunningWorker,
  type TextCompletionBody,
  type TinyModel,
} from "../test/support/running-worker.js";

let model: TinyModel;
let worker: RunningWorker;

beforeAll(async () => {
  model = await writeTinyModel();
  worker = await startWorker({ workerId: "wrk_json1", modelPath: model.path });
});

afterAll(async () => {
  await worker?.kill();
  await model?.remove();
});

const SEEDS = [1, 2, 3];

/** Each JSON schema sent, with a zod schema that accepts exactly what it allows. */
const SCHEMAS: Array<{ name: string; schema: Record<string, unknown>; check: z.ZodType }> = [
  {
    name: "flat_record",
    schema: {
      type: "object",
      properties: {
        name: { type: "string" },
        score: { type: "number" },
        count: { type: "integer" },
        active: { type: "boolean" },
        color: { type: "string", enum: ["red", "green", "blue"] },
        tags: { type: "array", items: { type: "string" }, maxItems: 3 },
      },
      required: ["name", "score", "count", "active", "color", "tags"],
      additionalProperties: false,
    },
    check: z.strictObject({
      name: z.string(),
      score: z.number(),
      count: z.number().int(),
      active: z.boolean(),
      color: z.enum(["red", "green", "blue"]),
      tags: z.array(z.string()).max(3),
    }),
  },
  {
    name: "nested",
    schema: {
      type: "object",
      properties: {
        id: { type: "integer" },
        owner: {
          type: "object",
          properties: { login: { type: "string", maxLength: 12 }, admin: { type: "boolean" } },
          required: ["login", "admin"],
        },
        points: {
          type: "array",
          items: { type: "object", properties: { x: { type: "number" }, y: { type: "number" } } },
          minItems: 1,
          maxItems: 2,
        },
      },
    },
    check: z.strictObject({
      id: z.number().int(),
      owner: z.strictObject({ login: z.string().max(12), admin: z.boolean() }),
      points: z.array(z.strictObject({ x: z.number(), y: z.number() })).min(1).max(2),
    }),
  },
  {
    name: "choices_and_refs",
    schema: {
      $defs: { level: { enum: ["low", "high", null] } },
      type: "object",
      properties: {
        level: { $ref: "#/$defs/level" },
        answer: { oneOf: [{ type: "boolean" }, { const: "unknown" }] },
        note: { type: ["string", "null"] },
      },
    },
    check: z.strictObject({
      level: z.enum(["low", "high"]).nullable(),
      answer: z.union([z.boolean(), z.literal("unknown")]),
      note: z.string().nullable(),
    }),
  },
];

function schemaChat(schema: Record<string, unknown>, seed: number, overrides: Record<string, unknown> = {}) {
  return {
    model: MODEL_NAME,
    messages: [{ role: "user", content: "Describe a user as JSON" }],
    seed,
    response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } },
    ...overrides,
  };
}

describe("response_format", () => {
  it("answers json_object requests with a JSON object, whatever the seed", async () => {
    for (const seed of SEEDS) {
      const response = await post(worker, "/v1/chat/completions", {
        model: MODEL_NAME,
        messages: [{ role: "user", content: "JSON please" }],
        seed,
        response_format: { type: "json_object" },
      });
      const body = await json<ChatCompletionBody>(response);
      expect(body.choices[0]?.finish_reason).toBe("stop");
      const parsed: unknown = JSON.parse(body.choices[0]?.message.content ?? "");
      expect(parsed).toBeTypeOf("object");
      expect(Array.isArray(parsed)).toBe(false);
    }
  });

  it("enforces a schema given beside json_object, as llama.cpp's server takes it (instructor's JSON_SCHEMA mode sends it so)", async () => {
    const [{ schema, check }] = SCHEMAS as [(typeof SCHEMAS)[number]];
    for (const seed of SEEDS) {
      const response = await post(worker, "/v1/chat/completions", { model: MODEL_NAME, messages: [{ role: "user", content: "JSON please" }], seed, response_format: { type: "json_object", schema } });
      expect(response.headers.get("x-rbee-ignored-fields")).toBeNull();
      const parsed: unknown = JSON.parse((await json<ChatCompletionBody>(response)).choices[0]?.message.content ?? "");
      expect(check.safeParse(parsed).error, JSON.stringify(parsed)).toBeUndefined();
    }
  });

  for (const { name, schema, check } of SCHEMAS) {
    it(`answers json_schema "${name}" with JSON that matches the schema, whatever the seed`, async () => {
      for (const seed of SEEDS) {
        const body = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", schemaChat(schema, seed)));
        expect(body.choices[0]?.finish_reason).toBe("stop");
        const parsed: unknown = JSON.parse(body.choices[0]?.message.content ?? "");
        expect(check.safeParse(parsed).error, JSON.stringify(parsed)).toBeUndefined();
      }
    });
  }

  it("enforces a schema on /v1/completions too, with no 16-token default cutting it short", async () => {
    const [{ schema, check }] = SCHEMAS as [(typeof SCHEMAS)[number]];
    const response = await post(worker, "/v1/completions", {
      model: MODEL_NAME,
      prompt: "User record:",
      seed: 5,
      response_format: { type: "json_schema", json_schema: { name: "user", schema } },
    });
    const body = await json<TextCompletionBody>(response);
    expect(body.choices[0]?.finish_reason).toBe("stop");
    expect(check.safeParse(JSON.parse(body.choices[0]?.text ?? "")).success).toBe(true);
  });

  it("streams the same JSON it returns without streaming", async () => {
    const schema = SCHEMAS[1]?.schema ?? {};
    const whole = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", schemaChat(schema, 11, { temperature: 0 })));
    const response = await post(worker, "/v1/chat/completions", schemaChat(schema, 11, { temperature: 0, stream: true }));
    const chunks = parseSse(await response.text())
      .slice(0, -1)
      .map((event) => JSON.parse(event) as ChatChunkBody);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(whole.choices[0]?.message.content);
  });

  it("says finish_reason length, not stop, when max_tokens cuts the JSON short", async () => {
    const schema = SCHEMAS[0]?.schema ?? {};
    const body = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", schemaChat(schema, 1, { max_tokens: 6 })));
    expect(body.choices[0]?.finish_reason).toBe("length");
    expect(() => JSON.parse(body.choices[0]?.message.content ?? "")).toThrow();
  });

  it("refuses a schema it cannot enforce with 400 naming response_format.json_schema.schema and the reason", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ type: "object", properties: { code: { type: "string", pattern: "^(?!X)[A-Z]+$" } } }, "properties.code.pattern"],
      [{ allOf: [{ type: "string" }, { maxLength: 2 }] }, '"allOf" cannot be enforced'],
      // Named as the client wrote it (anyOf), though the generator reads it as oneOf.
      [{ type: "object", properties: { n: { anyOf: [{ type: "integer", minimum: 3, multipleOf: 7 }, { type: "null" }] } } }, "properties.n.anyOf[0].multipleOf"],
      [{ type: "object", properties: { a: { $ref: "#/definitions/x" } } }, "properties.a.$ref"],
      [{ type: "object", properties: { a: { type: "string" } }, required: ["b"] }, "required"],
      [{ type: "integer", minimum: 5, maximum: 3 }, "minimum"],
      [{ type: "string", format: "email", maxLength: 3 }, "maxLength"],
    ];
    for (const [schema, reason] of cases) {
      const response = await post(worker, "/v1/chat/completions", schemaChat(schema, 1));
      expect(response.status, reason).toBe(400);
      const { error } = await json<ErrorBody>(response);
      expect(error).toMatchObject({ code: "unsupported_json_schema", param: "response_format.json_schema.schema" });
      expect(error.message).toContain(reason);
    }
  });

  it("enforces the schemas frameworks write: zod 4's integers (a 1–5 rating too), nullable fields and unions, draft-07 definitions", async () => {
    const Point = z.strictObject({ x: z.number().int(), y: z.number().int() });
    const check = z.strictObject({ from: Point, to: Point, stars: z.number().int().min(1).max(5), pair: z.tuple([z.string().max(5), z.boolean()]), note: z.string().max(12).nullable(), pet: z.union([z.literal("cat"), z.strictObject({ dog: z.boolean() })]) });
    for (const target of ["draft-2020-12", "draft-7"] as const) {
      const schema = z.toJSONSchema(check, { target, reused: "ref" }) as Record<string, unknown>;
      for (const seed of SEEDS) {
        const response = await post(worker, "/v1/chat/completions", schemaChat(schema, seed, { max_tokens: 400 }));
        const body = await json<ChatCompletionBody>(response);
        expect(response.status, JSON.stringify(body)).toBe(200);
        const parsed: unknown = JSON.parse(body.choices[0]?.message.content ?? "");
        expect(check.safeParse(parsed).error, JSON.stringify(parsed)).toBeUndefined();
      }
    }
  });

  it("enforces strict bounds, patterns and formats as OpenAI's strict mode does: zod 4's nonnegative, positive, uuid, ipv4, regex; pydantic's EmailStr", async () => {
    const zodFields = {
      age: z.number().int().nonnegative(),
      rating: z.number().int().min(-3).max(1200),
      price: z.number().positive().max(50),
      id: z.uuid(),
      ip: z.ipv4(),
      code: z.string().regex(/^[A-Z]{3}-\d{2}$/),
    };
    const check = z.strictObject({ ...zodFields, email: z.email() });
    // zod's own email check is an unbounded pattern, which a random model writes on for thousands of
    // tokens (it is compiled as any pattern is); pydantic's EmailStr is the format alone.
    const zodSchema = z.toJSONSchema(z.strictObject(zodFields)) as { properties: object; required: string[] };
    const schema = { ...zodSchema, properties: { ...zodSchema.properties, email: { type: "string", format: "email" } }, required: [...zodSchema.required, "email"] };
    for (const seed of SEEDS) {
      const response = await post(worker, "/v1/chat/completions", schemaChat(schema, seed, { max_tokens: 600 }));
      const body = await json<ChatCompletionBody>(response);
      expect(response.status, JSON.stringify(body)).toBe(200);
      const parsed: unknown = JSON.parse(body.choices[0]?.message.content ?? "");
      expect(check.safeParse(parsed).error, JSON.stringify(parsed)).toBeUndefined();
    }
  });

  it("enforces what it can of a schema that is not strict and leaves the rest to the model, as OpenAI leaves all of it", async () => {
    const schema = {
      type: "object",
      properties: { code: { type: "string", pattern: "^[A-Z]{2,6}$", maxLength: 4 }, size: { type: "integer", minimum: 3 }, word: { type: "string", pattern: "^(?!x)[a-z]{1,5}$" } },
      required: ["code", "size", "word"],
    };
    const loose = { response_format: { type: "json_schema", json_schema: { name: "answer", schema } } };
    for (const seed of SEEDS) {
      const body = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", schemaChat(schema, seed, loose)));
      const parsed: unknown = JSON.parse(body.choices[0]?.message.content ?? "");
      // The pattern is kept over the length beside it; the lookahead's pattern is left to the model.
      expect(z.strictObject({ code: z.string().regex(/^[A-Z]{2,6}$/), size: z.number().int().min(3), word: z.string() }).safeParse(parsed).error, JSON.stringify(parsed)).toBeUndefined();
    }
    // The same schema, strict, is refused: a pattern beside a length, and a lookahead, cannot be promised.
    expect((await post(worker, "/v1/chat/completions", schemaChat(schema, 1))).status).toBe(400);
  });

  it("ends a schema's answer with its value: the same tokens counted however much room max_tokens leaves after it", async () => {
    // A single-valued schema forces the answer; on the tiny model each character is one token.
    const text = "Forced answer 42";
    const tokens = JSON.stringify(text).length;
    for (const maxTokens of [tokens, tokens + 1, tokens + 3, tokens + 5, 200]) {
      const body = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", schemaChat({ type: "string", const: text }, 1, { max_tokens: maxTokens })));
      expect({ maxTokens, content: body.choices[0]?.message.content, finish: body.choices[0]?.finish_reason, tokens: body.usage.completion_tokens }).toEqual({
        maxTokens,
        content: JSON.stringify(text),
        finish: "stop",
        tokens,
      });
    }
  });

  it("writes real dates for format date and date-time: no 31st of a 30-day month, no year 0000", async () => {
    const day = { type: "string", format: "date" };
    const schema = { type: "object", properties: { a: day, b: day, c: day, at: { type: "string", format: "date-time" } }, required: ["a", "b", "c", "at"], additionalProperties: false };
    for (const seed of Array.from({ length: 12 }, (_, index) => index + 1)) {
      const body = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", schemaChat(schema, seed, { max_tokens: 200 })));
      const parsed = JSON.parse(body.choices[0]?.message.content ?? "") as Record<string, string>;
      for (const value of Object.values(parsed)) {
        const date = value.slice(0, 10);
        // A date that is not real rolls over in Date (2023-02-31 → 2023-03-03).
        expect(new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10), value).toBe(date);
        expect(Number(date.slice(0, 4)), value).toBeGreaterThanOrEqual(1000);
      }
    }
  });

  it("answers a json_schema format without a schema (optional in OpenAI's API) with a JSON object", async () => {
    const body = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", schemaChat({}, 4, { response_format: { type: "json_schema", json_schema: { name: "free" } } })));
    const parsed: unknown = JSON.parse(body.choices[0]?.message.content ?? "");
    expect(parsed).toBeTypeOf("object");
    expect(Array.isArray(parsed)).toBe(false);
  });

  it("refuses a malformed response_format with 400 naming the field", async () => {
    const response = await post(worker, "/v1/chat/completions", schemaChat({}, 1, { response_format: { type: "json_schema" } }));
    expect(response.status).toBe(400);
    expect((await json<ErrorBody>(response)).error.param).toBe("response_format.json_schema");
  });
});
