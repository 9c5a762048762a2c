// Turns the benchmark's measured runs into the printed table and ratio lines.
import { tokensPerSecond, type RunResult } from "./run-result.js";
import { summarize, type Summary } from "./summary.js";

/**
 * Every way a generation can run: "no-poll stream" is the worker with `--poll-us 0`
 * (worker/token-poller.ts); "llama-server stream" only when a llama-server binary was given.
 */
export const MODES = ["in-process", "http non-stream", "http stream", "no-poll stream", "llama-server stream"] as const;
export type Mode = (typeof MODES)[number];

/** The throughput the worker should keep relative to node-llama-cpp in-process. */
export const TARGET_RATIO = 0.95;

/** The runs of each mode, in round order; a mode that did not run has none. */
export type Runs = Record<Mode, RunResult[]>;

export function formatReport(runs: Runs): string {
  const lines: string[] = [];
  const row = (cells: string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(20) : cell.padStart(10))).join(" ");
  lines.push(row(["mode", "median tok/s", "min", "max", "tokens", "median s"]));
  const ran = MODES.filter((mode) => runs[mode].length > 0);
  for (const mode of ran) {
    const rate = summarize(runs[mode].map(tokensPerSecond));
    const seconds = summarize(runs[mode].map((run) => run.seconds));
    lines.push(row([mode, fixed(rate.median, 0), fixed(rate.min, 0), fixed(rate.max, 0), tokenRange(runs[mode]), fixed(seconds.median, 3)]));
  }
  for (const mode of ran) {
    const firstToken = runs[mode].flatMap((run) => (run.firstTokenSeconds === undefined ? [] : [run.firstTokenSeconds * 1000]));
    if (firstToken.length === 0) continue;
    const ttft = summarize(firstToken);
    lines.push(`time to first token, ${mode}: median ${fixed(ttft.median, 1)} ms (min ${fixed(ttft.min, 1)}, max ${fixed(ttft.max, 1)})`);
  }
  for (const mode of ["http non-stream", "http stream"] as const) lines.push(`${ratioLine(runs, mode, "in-process")} (target ≥ ${TARGET_RATIO})`);
  // What the worker gains by polling between tokens instead of sleeping.
  lines.push(ratioLine(runs, "http stream", "no-poll stream"));
  // What node-llama-cpp costs per token against llama.cpp serving the same model itself.
  if (runs["llama-server stream"].length > 0) lines.push(ratioLine(runs, "http stream", "llama-server stream"));
  return lines.join("\n");
}

/**
 * Ratio of the medians, and next to it the range of the per-round ratios: runs of one round ran
 * back to back, so their ratio is the least disturbed by load that comes and goes.
 */
function ratioLine(runs: Runs, mode: Mode, baselineMode: Mode): string {
  const baseline = summarize(runs[baselineMode].map(tokensPerSecond));
  const measured = summarize(runs[mode].map(tokensPerSecond));
  const perRound: Summary = summarize(runs[mode].map((run, i) => tokensPerSecond(run) / tokensPerSecond(runs[baselineMode][i] as RunResult)));
  return (
    `ratio ${flagName(mode)}/${flagName(baselineMode)}: ${fixed(measured.median / baseline.median, 2)}` +
    `  per-round ${fixed(perRound.min, 2)}–${fixed(perRound.max, 2)}, median ${fixed(perRound.median, 2)}`
  );
}

/** `http non-stream` as `http-nonstream`: one word in the ratio line. */
function flagName(mode: Mode): string {
  return mode.replaceAll(" ", "-").replace("non-stream", "nonstream");
}

function tokenRange(runs: readonly RunResult[]): string {
  const tokens = summarize(runs.map((run) => run.tokens));
  return tokens.min === tokens.max ? String(tokens.min) : `${tokens.min}–${tokens.max}`;
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}
