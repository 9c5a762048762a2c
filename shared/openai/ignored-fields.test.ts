// The x-rbee-ignored-fields header for any field name a client's JSON can hold: plain names as
// they are, every other one percent-encoded (a header value the Response constructor takes), and
// a bounded header however many or long the names.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ignoredFieldsHeader, MAX_LISTED, MAX_NAME_CHARS } from "./ignored-fields.js";

const Schema = z.object({ model: z.string() });
const header = (body: unknown) => ignoredFieldsHeader(Schema, body)["x-rbee-ignored-fields"];

describe("ignoredFieldsHeader", () => {
  it("names plain fields as they are, and gives no header when none is ignored", () => {
    expect(header({ model: "m", cache_prompt: true, "typical-p.x": 1 })).toBe("cache_prompt,typical-p.x");
    expect(ignoredFieldsHeader(Schema, { model: "m" })).toEqual({});
  });

  it("percent-encodes names a header value cannot carry, or whose commas would split the list", () => {
    const names = ["a\u0000b", "line\r\nbreak", "café", "漢字", "a,b", "100%", "lone\ud800"];
    const value = header(Object.fromEntries([["model", "m"], ...names.map((name) => [name, 1])]));
    expect(() => new Headers({ "x-rbee-ignored-fields": value ?? "" })).not.toThrow();
    const decoded = (value ?? "").split(",").map(decodeURIComponent);
    expect(decoded).toEqual([...names.slice(0, -1), "lone\ufffd"]);
  });

  it("lists MAX_LISTED names and counts the rest, each cut at MAX_NAME_CHARS", () => {
    const body: Record<string, unknown> = { model: "m", ["x".repeat(MAX_NAME_CHARS + 10)]: 1 };
    for (let i = 0; i < MAX_LISTED + 4; i++) body[`f${i}`] = i;
    const listed = (header(body) ?? "").split(",");
    expect(listed).toHaveLength(MAX_LISTED + 1);
    expect(listed[0]).toBe(`${"x".repeat(MAX_NAME_CHARS)}...`);
    expect(listed.at(-1)).toBe("+5 more");
  });
});
