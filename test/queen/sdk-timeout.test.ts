// The wait the queen gives a non-streamed request whose SDK declares its own timeout: a moment past
// the client's, so the client gives up first, with its own timeout error and its own retry.
import { describe, expect, it } from "vitest";
import { sdkTimeoutMs } from "../../queen/scheduling/sdk-timeout.js";

const declared = (headers: Record<string, string>) => sdkTimeoutMs(new Headers(headers));

describe("an SDK's declared timeout", () => {
  it("is waited past: Node's whole seconds (rounded down) to the next second, Python's read timeout by half a second", () => {
    expect(declared({ "x-stainless-timeout": "0" })).toBe(1000);
    expect(declared({ "x-stainless-timeout": "1" })).toBe(2000);
    expect(declared({ "x-stainless-timeout": "600" })).toBe(601_000);
    expect(declared({ "x-stainless-read-timeout": "1.0" })).toBe(1500);
    expect(declared({ "x-stainless-read-timeout": "0.25" })).toBe(750);
  });

  it("is none where the SDK declares none, or nothing a number", () => {
    expect(declared({})).toBeUndefined();
    expect(declared({ "x-stainless-read-timeout": "0" })).toBeUndefined();
    expect(declared({ "x-stainless-timeout": "soon" })).toBeUndefined();
  });
});
