// The progress meter's throttling, with a fake clock: at most one report per interval, the rate
// counted since the last report, and the final count always reported.
import { describe, expect, it } from "vitest";
import { ProgressMeter } from "./progress-meter.js";

describe("progress reports", () => {
  it("reports at most once per interval, with the rate since the last report, and always the last", () => {
    let now = 0;
    const reports: Array<[number, number | null, number]> = [];
    const meter = new ProgressMeter((bytes, total, rate) => reports.push([bytes, total, rate]), 100, 250, () => now);
    for (let step = 1; step <= 20; step++) {
      now = step * 50;
      meter.update(100 + step * 1000, 30_000);
    }
    meter.finish(30_000, 30_000);
    expect(reports).toHaveLength(5);
    expect(reports[0]).toEqual([5100, 30_000, 20_000]); // 5000 new bytes in 250 ms
    expect(reports.at(-1)?.[0]).toBe(30_000);
  });
});
