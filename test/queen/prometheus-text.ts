// A strict reader of Prometheus's text format for the tests: checks each family has its HELP
// and TYPE before its samples, every sample line's shape, and that histogram buckets are
// cumulative and end at +Inf equal to _count; returns the samples by their series text.
import { expect } from "vitest";

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+]+|\+Inf|-Inf|NaN)$/;

export function parsePrometheus(text: string): Map<string, number> {
  expect(text.endsWith("\n")).toBe(true);
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  let help: string | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      help = line.split(" ")[2];
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      expect(name, line).toBe(help);
      expect(["counter", "gauge", "histogram"], line).toContain(type);
      types.set(name ?? "", type ?? "");
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    const name = match?.[1] ?? "";
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    expect(types.has(family), `sample before its TYPE: ${line}`).toBe(true);
    samples.set(`${name}${match?.[2] ?? ""}`, Number(match?.[3]));
  }
  for (const [family, type] of types) if (type === "histogram") checkHistograms(family, samples);
  return samples;
}

function checkHistograms(family: string, samples: Map<string, number>): void {
  for (const [series, count] of samples) {
    if (!series.startsWith(`${family}_count`)) continue;
    const labels = series.slice(`${family}_count`.length);
    const inner = labels === "" ? "" : `${labels.slice(1, -1)},`;
    const buckets = [...samples].filter(([name]) => name.startsWith(`${family}_bucket{${inner}le=`));
    const values = buckets.map(([, value]) => value);
    expect(values, series).toEqual([...values].sort((a, b) => a - b));
    expect(buckets.at(-1)?.[0], series).toBe(`${family}_bucket{${inner}le="+Inf"}`);
    expect(buckets.at(-1)?.[1], series).toBe(count);
    expect(samples.has(`${family}_sum${labels}`), series).toBe(true);
  }
}
