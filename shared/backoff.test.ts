import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.js";

describe("backoffDelayMs", () => {
  const options = { baseMs: 500, maxMs: 30_000 };

  it("doubles the ceiling each attempt and never exceeds the cap", () => {
    expect(backoffDelayMs(0, { ...options, random: () => 0.999999 })).toBe(500);
    expect(backoffDelayMs(3, { ...options, random: () => 0.999999 })).toBe(4000);
    expect(backoffDelayMs(50, { ...options, random: () => 0.999999 })).toBe(30_000);
  });

  it("never retries immediately: half the ceiling is the floor", () => {
    expect(backoffDelayMs(0, { ...options, random: () => 0 })).toBe(250);
    expect(backoffDelayMs(50, { ...options, random: () => 0 })).toBe(15_000);
  });

  it("spreads many hives over the window instead of one instant", () => {
    const delays = new Set(Array.from({ length: 1000 }, () => backoffDelayMs(6, options)));
    expect(delays.size).toBeGreaterThan(500);
  });
});
