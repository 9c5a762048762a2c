// The command-line flags of bench/worker-start.ts, parsed and checked once into `StartOptions`.
import { parseArgs } from "node:util";
import { z } from "zod";
import { integerFlag } from "./bench-options.js";

export const START_DEFAULTS = {
  /**
   * Measured starts per worker, after one warm-up each. Even, so that each worker goes first in
   * as many rounds as the other (the order alternates).
   */
  runs: 6,
} as const;

export interface StartOptions {
  runs: number;
}

export const START_USAGE = `Usage: node --import tsx bench/worker-start.ts [--runs <n, default ${START_DEFAULTS.runs}>]`;

const FlagsSchema = z.object({
  runs: integerFlag(1, 1000).default(START_DEFAULTS.runs),
});

/** Parses `argv` (without node and script); throws an Error naming the flag on the first problem. */
export function parseStartOptions(argv: readonly string[]): StartOptions {
  const { values } = parseArgs({ args: [...argv], options: { runs: { type: "string" } }, strict: true, allowPositionals: false });
  const result = FlagsSchema.safeParse(values);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`--runs: ${issue?.message ?? "invalid"}, got ${values.runs === undefined ? "nothing" : JSON.stringify(values.runs)}`);
  }
  return { runs: result.data.runs };
}
