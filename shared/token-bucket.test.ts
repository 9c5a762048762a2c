import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.js";

describe("TokenBucket", () => {
  it("allows a burst of its capacity, then refuses until time refills it", () => {
    let now = 1000;
    const bucket = new TokenBucket(3, 2, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 500; // half a second at 2 a second: one token
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
  });

  it("never holds more than its capacity however long it rested", () => {
    let now = 0;
    const bucket = new TokenBucket(2, 100, () => now);
    now += 60_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });
});
