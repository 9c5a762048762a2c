// The worker's command-line flags, parsed and validated once here so the rest of the worker only
// ever sees a typed `WorkerOptions`; the hive builds these flags when it spawns a worker.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseHiveChannel } from "../shared/hive-channel-address.js";
import { ModelName, WorkerId } from "../shared/protocol/worker-heartbeat.js";
import { physicalCoreCount } from "./cpu-cores.js";

export const GPU_CHOICES = ["auto", "cpu", "cuda", "metal", "vulkan"] as const;
export type GpuChoice = (typeof GPU_CHOICES)[number];

/** Model layers to offload to the GPU: a count, as many as fit ("auto"), or all of them ("max"). */
export type GpuLayers = number | "auto" | "max";

export const DEFAULTS = {
  /** How often the worker tells its hive it is alive, in ms. */
  heartbeatIntervalMs: 5000,
  /** CPU threads for generation: one per physical core this process may use. */
  threads: physicalCoreCount(),
  /** Requests that generate at once, each on its own context sequence ("slot"). */
  parallel: 1,
  /** Requests that may wait for a slot, per slot; `--max-queue` defaults to this × `--parallel`. */
  queuedPerSlot: 2,
  /** Model layers on the GPU: as many as fit next to the context. */
  gpuLayers: "auto" as GpuLayers,
  /**
   * Largest context, in tokens, picked when `--context-size` is not given (the model's trained
   * context is used when smaller): a 128k-token KV cache would take gigabytes nobody asked for.
   */
  maxDefaultContextSize: 4096,
  gpu: "auto" as GpuChoice,
} as const;

export interface WorkerOptions {
  /** Path of the GGUF file to load. */
  modelPath: string;
  /** Name clients use for this model; echoed in responses and heartbeats. */
  modelName: string;
  workerId: string;
  /** Port of the HTTP API, which binds 127.0.0.1 only. */
  port: number;
  /** Base URL of the hive's loopback channel; no heartbeats are sent without it. */
  hiveChannel: string | undefined;
  heartbeatIntervalMs: number;
  threads: number;
  /**
   * Context size of each slot, in tokens (prompt and completion together); undefined means
   * min(model's trained context, DEFAULTS.maxDefaultContextSize). Memory grows with slots × this.
   */
  contextSize: number | undefined;
  gpu: GpuChoice;
  gpuLayers: GpuLayers;
  /** Slots: requests generated at once. */
  parallel: number;
  /** Requests that may wait for a slot; one more is refused with 503 and Retry-After. */
  maxQueue: number;
  /** Tokens llama.cpp evaluates per batch; undefined keeps node-llama-cpp's min(512, total context). */
  batchSize: number | undefined;
}

export const USAGE = `Usage: node --import tsx worker/main.ts --model <file.gguf> --model-name <name> --worker-id <wrk_…> --port <n>
  [--hive-channel <unix:/path.sock | http://127.0.0.1:…>] [--heartbeat-interval-ms <ms, default ${DEFAULTS.heartbeatIntervalMs}>]
  [--threads <n, default ${DEFAULTS.threads}: physical cores>] [--parallel <slots, default ${DEFAULTS.parallel}>]
  [--max-queue <requests waiting for a slot, default ${DEFAULTS.queuedPerSlot}×parallel>]
  [--context-size <tokens per slot, default min(trained, ${DEFAULTS.maxDefaultContextSize})>] [--batch-size <tokens>]
  [--gpu ${GPU_CHOICES.join("|")}, default ${DEFAULTS.gpu}] [--gpu-layers <n|auto|max, default ${DEFAULTS.gpuLayers}>]`;

/** A bad flag; its message names the flag, what was expected and what arrived. */
export class OptionsError extends Error {
  override readonly name = "OptionsError";
}

function integerFlag(min: number, max: number, note = "") {
  const expected = `expected an integer ${min}–${max}${note}`;
  return z
    .string({ error: expected })
    .refine((raw) => /^[0-9]+$/.test(raw) && Number(raw) >= min && Number(raw) <= max, expected)
    .transform(Number);
}

/** The most slots `--parallel` allows; the heartbeat schema caps slot counts at 1024 too. */
const MAX_SLOTS = 256;

// Every flag arrives as a string (or undefined), so each schema starts from z.string() and its
// messages are written as "expected …" to read well after the flag name.
const FlagsSchema = z.object({
  model: z.string({ error: "expected a path to a .gguf file" }).min(1, "expected a path to a .gguf file"),
  "model-name": z.string({ error: "expected a model name" }).pipe(ModelName),
  "worker-id": z.string({ error: "expected a worker id like wrk_abc123" }).pipe(WorkerId),
  port: integerFlag(1, 65535),
  "hive-channel": z
    .string()
    .refine((raw) => parseHiveChannel(raw) !== undefined, "expected unix:/absolute/path.sock or an http:// URL with a port on 127.0.0.1, localhost or [::1]")
    .optional(),
  "heartbeat-interval-ms": integerFlag(50, 600_000).default(DEFAULTS.heartbeatIntervalMs),
  threads: integerFlag(1, availableParallelism(), " (the CPUs this process may use)").default(DEFAULTS.threads),
  "context-size": integerFlag(32, 1_048_576).optional(),
  gpu: z.enum(GPU_CHOICES, { error: `expected one of ${GPU_CHOICES.join(", ")}` }).default(DEFAULTS.gpu),
  "gpu-layers": z
    .string()
    .refine((raw) => raw === "auto" || raw === "max" || /^[0-9]{1,4}$/.test(raw), "expected auto, max or an integer 0–9999")
    .transform((raw): GpuLayers => (raw === "auto" || raw === "max" ? raw : Number(raw)))
    .default(DEFAULTS.gpuLayers),
  // Every slot holds its own KV cache, so the bound is about memory rather than llama.cpp.
  parallel: integerFlag(1, MAX_SLOTS).default(DEFAULTS.parallel),
  "max-queue": integerFlag(0, 100_000).optional(),
  "batch-size": integerFlag(1, 65_536).optional(),
});

type FlagName = keyof z.input<typeof FlagsSchema>;

const FLAG_NAMES = Object.keys(FlagsSchema.shape) as FlagName[];

/** Parses `argv` (without node and script); throws OptionsError on the first problem. */
export function parseWorkerOptions(argv: readonly string[]): WorkerOptions {
  const raw = readFlags(argv);
  const result = FlagsSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const flag = String(issue?.path[0] ?? "");
    const received = raw[flag as FlagName];
    const got = received === undefined ? "nothing" : JSON.stringify(received);
    throw new OptionsError(`--${flag}: ${issue?.message ?? "invalid"}, got ${got}`);
  }
  const flags = result.data;
  return {
    modelPath: flags.model,
    modelName: flags["model-name"],
    workerId: flags["worker-id"],
    port: flags.port,
    hiveChannel: flags["hive-channel"],
    heartbeatIntervalMs: flags["heartbeat-interval-ms"],
    threads: flags.threads,
    contextSize: flags["context-size"],
    gpu: flags.gpu,
    gpuLayers: flags["gpu-layers"],
    parallel: flags.parallel,
    maxQueue: flags["max-queue"] ?? DEFAULTS.queuedPerSlot * flags.parallel,
    batchSize: flags["batch-size"],
  };
}

/** True when the user asked for usage rather than a worker. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

function readFlags(argv: readonly string[]): Partial<Record<FlagName, string>> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(FLAG_NAMES.map((name) => [name, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    });
    const flags: Partial<Record<FlagName, string>> = {};
    for (const name of FLAG_NAMES) {
      const value = values[name];
      if (typeof value === "string") flags[name] = value;
    }
    return flags;
  } catch (error) {
    // parseArgs already names the flag ("Unknown option '--prot'", "Option '--port <value>' argument missing").
    throw new OptionsError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}
