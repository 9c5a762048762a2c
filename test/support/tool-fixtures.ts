// Tools the tool-call tests offer the tiny model, with zod schemas that accept exactly the
// arguments each tool's JSON schema allows, and the conversation that asks for them. Shared by the
// worker's tests (worker/tool-calls.test.ts) and the end-to-end ones through the queen.
import type { ChatCompletionMessageParam, ChatCompletionMessageToolCall, ChatCompletionTool } from "openai/resources/chat/completions";
import { expect } from "vitest";
import { z } from "zod";

export const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", maxLength: 12 },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        days: { type: "integer" },
        hourly: { type: "boolean" },
      },
      required: ["city", "unit", "days", "hourly"],
      additionalProperties: false,
    },
    strict: true,
  },
} satisfies ChatCompletionTool;

export const TIME_TOOL = {
  type: "function",
  function: {
    name: "get_time",
    description: "The time now in a time zone",
    parameters: { type: "object", properties: { zone: { type: "string", maxLength: 8 }, offset: { type: "number" } } },
  },
} satisfies ChatCompletionTool;

/** What each tool's arguments may be, exactly. */
export const ARGUMENTS: Record<string, z.ZodType> = {
  get_weather: z.strictObject({ city: z.string().max(12), unit: z.enum(["celsius", "fahrenheit"]), days: z.number().int(), hourly: z.boolean() }),
  get_time: z.strictObject({ zone: z.string().max(8), offset: z.number().finite() }),
};

export const ASK_WEATHER: ChatCompletionMessageParam[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Weather in Paris?" },
];

/** Asserts `call` is a well-formed call of one of the tools, whose arguments parse and fit its schema; returns them. */
export function expectValidCall(call: ChatCompletionMessageToolCall | undefined, names: readonly string[]): unknown {
  expect(call?.type).toBe("function");
  if (call?.type !== "function") throw new Error("expected a function tool call");
  expect(call.id).toMatch(/^call_[0-9a-f]+$/);
  expect(names).toContain(call.function.name);
  const schema = ARGUMENTS[call.function.name];
  if (schema === undefined) throw new Error(`no schema for ${call.function.name}`);
  const parsed: unknown = JSON.parse(call.function.arguments);
  expect(schema.safeParse(parsed).error).toBeUndefined();
  return parsed;
}
