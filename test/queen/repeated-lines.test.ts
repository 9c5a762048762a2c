import { describe, expect, it } from "vitest";
import { RepeatedLines } from "../../queen/observability/repeated-lines.js";

describe("RepeatedLines", () => {
  it("says a line once within its quiet time, and again after it", () => {
    const lines = new RepeatedLines(60_000);
    expect(lines.mayRepeat("no worker for 'm'", 0)).toBe(true);
    expect(lines.mayRepeat("no worker for 'm'", 59_999)).toBe(false);
    // Another line is not quieted by the first.
    expect(lines.mayRepeat("no worker for 'n'", 59_999)).toBe(true);
    expect(lines.mayRepeat("no worker for 'm'", 60_000)).toBe(true);
    expect(lines.mayRepeat("no worker for 'm'", 60_001)).toBe(false);
  });
});
