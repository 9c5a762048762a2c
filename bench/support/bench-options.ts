// The benchmark's command-line flags, parsed and checked once so bench/worker-throughput.ts only
// ever sees a typed `BenchOptions`.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { HEAD_COUNTS, type HeadCount } from "../../shared/gguf/tiny-model.js";

export const DEFAULTS = {
  /** Tokens each run asks for (`max_tokens`). */
  tokens: 400,
  /** Measured runs per mode, after one warm-up each. */
  runs: 5,
  /**
   * CPU threads, for the worker and the in-process baseline alike. One, because on a 2-core
   * machine llama.cpp's default (max(4, cores)) oversubscribes the CPUs and runs ~500× slower.
   */
  threads: 1,
} as const;

export interface BenchOptions {
  tokens: number;
  runs: number;
  threads: number;
  /** A GGUF file to benchmark; undefined writes the tiny test model into a temp dir. */
  modelPath: string | undefined;
  /** The generated tiny model's attention heads; undefined keeps the tests' model. */
  tinyHeads: HeadCount | undefined;
  /** A llama-server binary to stream from as well, on the same model; undefined leaves it out. */
  llamaServer: string | undefined;
  /** A llama.cpp build's folder for the worker and the in-process side; undefined uses node-llama-cpp's prebuilt binary. */
  llamaBuild: string | undefined;
}

export const USAGE = `Usage: node --import tsx bench/worker-throughput.ts [--tokens <n, default ${DEFAULTS.tokens}>]
  [--runs <n, default ${DEFAULTS.runs}>] [--threads <n, default ${DEFAULTS.threads}>] [--model <file.gguf, default: tiny test model>]
  [--tiny-heads <${HEAD_COUNTS.join("|")}: the tiny model's attention heads, default: the tests' 4>]
  [--llama-server <path to llama.cpp's llama-server, to compare against>]
  [--llama-build <folder of a llama.cpp build, as a worker's --llama-build, default: node-llama-cpp's prebuilt binary>]`;

/** A zod schema for an integer flag given as a string, `min`–`max` inclusive. */
export function integerFlag(min: number, max: number) {
  const expected = `expected an integer ${min}–${max}`;
  return z
    .string({ error: expected })
    .refine((raw) => /^[0-9]+$/.test(raw) && Number(raw) >= min && Number(raw) <= max, expected)
    .transform(Number);
}

const FlagsSchema = z.object({
  tokens: integerFlag(1, 100_000).default(DEFAULTS.tokens),
  runs: integerFlag(1, 1000).default(DEFAULTS.runs),
  threads: integerFlag(1, 1024).default(DEFAULTS.threads),
  model: z.string().min(1, "expected a path to a .gguf file").optional(),
  "tiny-heads": z
    .string()
    .transform(Number)
    .pipe(z.literal(HEAD_COUNTS, { error: `expected one of ${HEAD_COUNTS.join(", ")}` }))
    .optional(),
  "llama-server": z.string().min(1, "expected the path of a llama-server binary").optional(),
  "llama-build": z.string().min(1, "expected the folder of a llama.cpp build").optional(),
});

type FlagName = keyof z.input<typeof FlagsSchema>;

/** Parses `argv` (without node and script); throws an Error naming the flag on the first problem. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const names = Object.keys(FlagsSchema.shape) as FlagName[];
  const { values } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(names.map((name) => [name, { type: "string" as const }])),
    strict: true,
    allowPositionals: false,
  });
  const result = FlagsSchema.safeParse(values);
  if (!result.success) {
    const issue = result.error.issues[0];
    const flag = String(issue?.path[0] ?? "");
    const received = (values as Record<string, unknown>)[flag];
    throw new Error(`--${flag}: ${issue?.message ?? "invalid"}, got ${received === undefined ? "nothing" : JSON.stringify(received)}`);
  }
  const flags = result.data;
  if (flags.model !== undefined && flags["tiny-heads"] !== undefined) {
    throw new Error("--tiny-heads: shapes the generated tiny model, so it cannot go with --model");
  }
  return {
    tokens: flags.tokens,
    runs: flags.runs,
    threads: flags.threads,
    modelPath: flags.model,
    tinyHeads: flags["tiny-heads"],
    llamaServer: flags["llama-server"],
    llamaBuild: flags["llama-build"],
  };
}

/** True when the user asked for usage rather than a benchmark. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/**
 * Parses `argv` with node's parseArgs (`options` says which flags exist and their kind), then
 * checks the values with `schema`; throws an Error naming the first bad flag, followed by `usage`.
 */
export function parseFlags<S extends z.ZodType>(argv: readonly string[], options: ParseArgsConfig["options"], schema: S, usage: string): z.output<S> {
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`--${String(issue?.path[0] ?? "")}: ${issue?.message ?? "invalid"}\n${usage}`);
}
