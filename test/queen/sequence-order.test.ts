import { describe, expect, it } from "vitest";
import { SequenceOrder } from "../../queen/streams/sequence-order.js";

describe("sequence order", () => {
  it("holds early items until the gap before them fills, then releases them in order", () => {
    const order = new SequenceOrder<string>(0, 10);
    expect(order.accept(1, "b")).toEqual([]);
    expect(order.accept(2, "c")).toEqual([]);
    expect(order.holding).toBe(true);
    expect(order.accept(0, "a")).toEqual(["a", "b", "c"]);
    expect(order.holding).toBe(false);
    expect(order.nextSeq).toBe(3);
  });

  it("drops duplicates and numbers already passed", () => {
    const order = new SequenceOrder<string>(5, 10);
    expect(order.accept(4, "old")).toEqual([]);
    expect(order.accept(6, "x")).toEqual([]);
    expect(order.accept(6, "x again")).toEqual([]);
    expect(order.accept(5, "y")).toEqual(["y", "x"]);
  });

  it("says when more than its bound wait behind a gap, and flushing skips the gap", () => {
    const order = new SequenceOrder<number>(0, 2);
    order.accept(2, 2);
    order.accept(3, 3);
    expect(order.overflowing).toBe(false);
    order.accept(5, 5);
    expect(order.overflowing).toBe(true);
    expect(order.flush()).toEqual([2, 3, 5]);
    expect(order.nextSeq).toBe(6);
    expect(order.overflowing).toBe(false);
  });

  it("weighs what it holds behind a gap, and nothing once released, flushed or cleared", () => {
    const order = new SequenceOrder<string>(0, 10, (item) => item.length);
    order.accept(2, "ccc");
    order.accept(1, "bb");
    order.accept(1, "duplicate");
    expect(order.heldSize).toBe(5);
    expect(order.accept(0, "a")).toEqual(["a", "bb", "ccc"]);
    expect(order.heldSize).toBe(0);
    order.accept(5, "fffff");
    expect(order.heldSize).toBe(5);
    order.flush();
    expect(order.heldSize).toBe(0);
    order.accept(9, "x");
    order.clear();
    expect(order.heldSize).toBe(0);
  });
});
