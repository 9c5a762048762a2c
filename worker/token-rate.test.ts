// The heartbeat's tokens-per-second figure, with a hand-driven clock.
import { describe, expect, it } from "vitest";
import { TokenRate } from "./token-rate.js";

describe("TokenRate", () => {
  it("reports tokens per second over the trailing window", () => {
    let nowMs = 10_000;
    const rate = new TokenRate(1000, () => nowMs);
    rate.add(100);
    nowMs += 500;
    rate.add(150);
    expect(rate.perSecond()).toBe(250);
  });

  it("forgets tokens older than the window, and reading does not reset it", () => {
    let nowMs = 0;
    const rate = new TokenRate(1000, () => nowMs);
    rate.add(400);
    nowMs = 600;
    rate.add(200);
    expect(rate.perSecond()).toBe(600);
    expect(rate.perSecond()).toBe(600);
    nowMs = 1050;
    expect(rate.perSecond()).toBe(200);
    nowMs = 60_000;
    expect(rate.perSecond()).toBe(0);
  });
});
