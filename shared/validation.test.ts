import { z } from "zod";
import { describe, expect, it } from "vitest";
import { RbeeError } from "./errors.js";
import { MAX_BODY_DEPTH, parseRequest } from "./validation.js";

const Request = z.object({
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  content: z.union([z.string(), z.array(z.object({ type: z.string(), text: z.string() }))]).optional(),
  tool_choice: z.union([z.enum(["none", "auto"]), z.object({ type: z.literal("function") })]).optional(),
  either: z.union([z.array(z.string()).max(1), z.array(z.number()).max(1)]).optional(),
  named: z.union([z.string(), z.number()], { error: "must be a name or a number" }).optional(),
});

function refusal(body: unknown): { message: string; param: string | undefined } {
  try {
    parseRequest(Request, body);
  } catch (error) {
    if (error instanceof RbeeError) return { message: error.message, param: error.param };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("a union's refusal", () => {
  it("names the problem inside the one option the value has the type of, and its place", () => {
    expect(refusal({ stop: ["a", "b", "c", "d", "e"] })).toEqual({ message: "Invalid request body: stop: Too big: expected array to have <=4 items", param: "stop" });
    expect(refusal({ content: [{ type: "text", text: 5 }] })).toEqual({
      message: "Invalid request body: content[0].text: Invalid input: expected string, received number",
      param: "content[0].text",
    });
  });

  it("names what each option expects, and what came, when the value has the type of none", () => {
    expect(refusal({ content: null }).message).toBe("Invalid request body: content: Invalid input: expected string or array, received null");
    expect(refusal({ tool_choice: "always" }).message).toBe('Invalid request body: tool_choice: Invalid input: expected "none"|"auto" or object, received string');
  });

  it("keeps a union's own message, and zod's where several options have the value's type", () => {
    expect(refusal({ named: true }).message).toBe("Invalid request body: named: must be a name or a number");
    expect(refusal({ either: [1, 2] }).message).toBe("Invalid request body: either: Invalid input");
  });
});

describe("a body nested too deeply", () => {
  const Loose = z.looseObject({ model: z.string() });
  /** `[[…[]…]]`, `levels` arrays deep, built without recursion. */
  function nestedArray(levels: number): unknown[] {
    let value: unknown[] = [];
    for (let level = 1; level < levels; level++) value = [value];
    return value;
  }

  it("is refused with a 400 naming the field that holds it, however deep, without overflowing the stack", () => {
    let refused: unknown;
    try {
      parseRequest(Loose, { model: "m", input: nestedArray(100_000) });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(RbeeError);
    expect(refused).toMatchObject({ status: 400, code: "invalid_request", param: "input[0][0][0][0][0]" });
    expect((refused as RbeeError).message).toBe(`Invalid request body: input[0][0][0][0][0]…: nested more than ${MAX_BODY_DEPTH} levels of objects and arrays deep`);
  });

  it("passes up to the limit, the body itself being the first level", () => {
    expect(parseRequest(Loose, { model: "m", input: nestedArray(MAX_BODY_DEPTH - 1) })).toMatchObject({ model: "m" });
    expect(() => parseRequest(Loose, { model: "m", input: nestedArray(MAX_BODY_DEPTH) })).toThrow(RbeeError);
  });
});
