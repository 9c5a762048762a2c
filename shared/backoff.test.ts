import { describe, expect, it } from "vitest";
import { backoffDelayMs, firstRetryDelayMs } from "./backoff.js";

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

describe("firstRetryDelayMs", () => {
  it("spreads the first retry of a thousand hives that lost the queen at once over the window", () => {
    const spreadMs = 5000;
    const perSecond = new Map<number, number>();
    for (let hive = 0; hive < 1000; hive++) {
      const delay = firstRetryDelayMs(spreadMs);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(spreadMs);
      const second = Math.floor(delay / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    // About 200 a second; 400 in any one second would be a 1-in-10^40 accident.
    expect(Math.max(...perSecond.values())).toBeLessThan(400);
  });
});
