// Permit blocks (limits/permit-blocks.ts): the RateLimiter hands out requests in blocks that an
// isolate spends without asking again, and grants only what is left near a limit.
import { describe, expect, it } from "vitest";
import { FixedWindows } from "../../queen/limits/fixed-windows.js";
import type { Limit } from "../../queen/limits/limit.js";
import { keepPermits, permitBlockSize, spendPermit } from "../../queen/limits/permit-blocks.js";

const perMinute = (max: number, name = "requests_per_key"): Limit => ({ name, windowMs: 60_000, max });

describe("FixedWindows.reserve", () => {
  it("grants the block asked for while there is room, and counts it at once", () => {
    const windows = new FixedWindows();
    expect(windows.reserve([perMinute(100)], 10, 1000)).toEqual({ ok: true, granted: 10, untilMs: 61_000 });
    expect(windows.use([perMinute(100)], 2000)[0]?.used).toBe(10);
  });

  it("grants only what the fullest limit has left, then refuses with the window's end", () => {
    const windows = new FixedWindows();
    windows.reserve([perMinute(12)], 10, 0);
    expect(windows.reserve([perMinute(12), perMinute(100, "requests_per_minute")], 10, 0)).toMatchObject({ ok: true, granted: 2 });
    expect(windows.reserve([perMinute(12)], 10, 30_000)).toMatchObject({ ok: false, limit: { name: "requests_per_key" }, retryAfterMs: 30_000 });
  });

  it("grants one request, good for no other, against token limits alone", () => {
    const tokens: Limit = { name: "tokens_per_minute", windowMs: 60_000, max: 1000, unit: "tokens" };
    expect(new FixedWindows().reserve([tokens], 10, 5)).toEqual({ ok: true, granted: 1, untilMs: 5 });
  });
});

describe("permit blocks in an isolate", () => {
  it("sizes a block at a fiftieth of the smallest limit, and at one for small or token limits", () => {
    expect(permitBlockSize([perMinute(12_000), perMinute(24_000, "requests_per_address")])).toBe(240);
    expect(permitBlockSize([perMinute(60)])).toBe(1);
    expect(permitBlockSize([perMinute(12_000), { name: "tokens_per_day", windowMs: 86_400_000, max: 1e6, unit: "tokens" }])).toBe(1);
  });

  it("spends what was kept until it runs out or its window closes, and only for the same limits", () => {
    const limits = [perMinute(1000)];
    keepPermits("key:spender", limits, 3, 10_000);
    expect(spendPermit("key:spender", [perMinute(2000)], 0)).toBe(false);
    expect([spendPermit("key:spender", limits, 0), spendPermit("key:spender", limits, 0), spendPermit("key:spender", limits, 0)]).toEqual([true, true, false]);
    keepPermits("key:spender", limits, 5, 10_000);
    expect(spendPermit("key:spender", limits, 10_000)).toBe(false);
  });
});
