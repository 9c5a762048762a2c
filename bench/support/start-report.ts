// Turns bench/worker-start.ts's measured starts into its printed lines: one per run, then a table
// of medians and the bundled/tsx ratios.
import { summarize } from "./summary.js";
import type { StartTiming } from "./worker-start-timing.js";

/** The two ways to start a worker: the catalog's esbuild bundle, and worker/main.ts under tsx. */
export const STARTERS = ["bundled", "tsx"] as const;
export type Starter = (typeof STARTERS)[number];

export type StartRuns = Record<Starter, StartTiming[]>;

const METRICS = [
  { key: "listeningMs", label: "listening" },
  { key: "firstHeartbeatMs", label: "1st heartbeat" },
  { key: "readyMs", label: "ready" },
] as const satisfies readonly { key: keyof StartTiming; label: string }[];

export function formatRun(label: string, starter: Starter, timing: StartTiming): string {
  const figures = METRICS.map((metric) => `${metric.label} ${ms(timing[metric.key])}`).join("  ");
  return `${label.padEnd(8)} ${starter.padEnd(8)} ${figures}`;
}

export function formatStartReport(runs: StartRuns): string {
  const row = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(8) : cell.padStart(32))).join(" ");
  const lines = [row(["worker", ...METRICS.map((metric) => `${metric.label} median (min–max)`)])];
  for (const starter of STARTERS) {
    lines.push(
      row([
        starter,
        ...METRICS.map((metric) => {
          const summary = summarize(runs[starter].map((timing) => timing[metric.key]));
          return `${ms(summary.median)} (${Math.round(summary.min)}–${Math.round(summary.max)})`;
        }),
      ]),
    );
  }
  for (const metric of METRICS) lines.push(ratioLine(runs, metric.key, metric.label));
  return lines.join("\n");
}

/**
 * Median bundled ÷ median tsx (below 1: the bundle is faster), and the range of the per-round
 * ratios: the two starts of one round ran back to back, so they share most of the machine's load.
 */
function ratioLine(runs: StartRuns, key: keyof StartTiming, label: string): string {
  const bundled = runs.bundled.map((timing) => timing[key]);
  const tsx = runs.tsx.map((timing) => timing[key]);
  const ratio = summarize(bundled).median / summarize(tsx).median;
  const perRound = summarize(bundled.map((value, i) => value / (tsx[i] as number)));
  const verdict = ratio <= 1 ? `bundled ${(1 / ratio).toFixed(1)}× faster` : `bundled ${ratio.toFixed(1)}× slower`;
  return (
    `ratio bundled/tsx, ${label}: ${ratio.toFixed(2)} (${verdict})` +
    `  per-round ${perRound.min.toFixed(2)}–${perRound.max.toFixed(2)}, median ${perRound.median.toFixed(2)}`
  );
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}
