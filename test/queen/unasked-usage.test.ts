import { describe, expect, it } from "vitest";
import { askingForUsage } from "../../queen/usage/unasked-usage.js";

describe("asking the worker for a stream's usage", () => {
  it("asks for it in a stream whose client did not, and says so; leaves the rest be", () => {
    expect(askingForUsage({ model: "m", stream: true })).toEqual({ request: { model: "m", stream: true, stream_options: { include_usage: true } }, unasked: true });
    const obfuscated = { model: "m", stream: true, stream_options: { include_obfuscation: false } };
    expect(askingForUsage(obfuscated).request).toEqual({ ...obfuscated, stream_options: { include_obfuscation: false, include_usage: true } });
    const asked = { model: "m", stream: true, stream_options: { include_usage: true } };
    expect(askingForUsage(asked)).toEqual({ request: asked, unasked: false });
    expect(askingForUsage({ model: "m", stream: false })).toEqual({ request: { model: "m", stream: false }, unasked: false });
    expect(askingForUsage({ model: "m", input: "embed me" })).toEqual({ request: { model: "m", input: "embed me" }, unasked: false });
  });
});
