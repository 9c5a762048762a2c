// The worker's command line, the contract between a hive and the workers it starts: one table
// of settings and their flags, from which the hive builds a worker's arguments
// (`workerLaunchArgs`) and the worker reads them back (`parseWorkerLaunch`), validated once.
// A flag left out means the worker's own default (worker/options.ts).
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseHiveChannel } from "../hive-channel-address.js";
import { UsageError } from "../usage-error.js";
import { MAX_CONTEXT_SIZE } from "./context-size.js";
import { MAX_QUEUED_REQUESTS } from "./figures.js";
import { ModelName, WorkerId } from "./worker-heartbeat.js";

export const GPU_CHOICES = ["auto", "cpu", "cuda", "metal", "vulkan"] as const;
export type GpuChoice = (typeof GPU_CHOICES)[number];

/** Model layers to offload to the GPU: a count, as many as fit ("auto"), or all of them ("max"). */
export type GpuLayers = number | "auto" | "max";

/**
 * Largest context, in tokens, a worker picks when `--context-size` is not given (the model's
 * trained context is used when smaller); the hive estimates a model's memory at this size too.
 */
export const MAX_DEFAULT_CONTEXT_SIZE = 4096;

/**
 * How long a worker's event loop polls after a token for the next one by default, in µs
 * (`--poll-us`, worker/token-poller.ts); the hive's help names it too.
 */
export const DEFAULT_POLL_US = 2000;
/** The longest `--poll-us` a worker takes (a second); the hive's `--worker-poll-us` is bounded alike. */
export const MAX_POLL_US = 1_000_000;

/**
 * Environment variable carrying the worker's API secret from its hive: the worker requires it as
 * `Authorization: Bearer <secret>` on every request. The environment, not a flag, because `ps`
 * shows any user every process's arguments but only its owner its environment.
 */
export const WORKER_SECRET_ENV = "RBEE_WORKER_SECRET";

/** Shortest secret a worker accepts, in characters; the hive's are 64 hex digits (HMAC-SHA256). */
export const MIN_WORKER_SECRET_CHARS = 32;

/** The most slots `--parallel` allows; the heartbeat schema caps slot counts at 1024 too. */
export const MAX_SLOTS = 256;

function integerFlag(min: number, max: number, note = "") {
  const expected = `expected an integer ${min}–${max}${note}`;
  return z
    .string({ error: expected })
    .refine((raw) => /^[0-9]+$/.test(raw) && Number(raw) >= min && Number(raw) <= max, expected)
    .transform(Number);
}

// Every flag arrives as a string (or undefined), so each schema starts from z.string() and its
// messages are written as "expected …" to read well after the flag name. The order is the order
// problems are reported in.
const LaunchFlags = z.object({
  modelPath: z.string({ error: "expected a path to a .gguf file" }).min(1, "expected a path to a .gguf file"),
  modelName: z.string({ error: "expected a model name" }).pipe(ModelName),
  workerId: z.string({ error: "expected a worker id like wrk_abc123" }).pipe(WorkerId),
  /** Port of the worker's HTTP API, which binds 127.0.0.1 only. */
  port: integerFlag(1, 65535),
  /** Base URL of the hive's loopback channel; no heartbeats are sent without it. */
  hiveChannel: z
    .string()
    .refine((raw) => parseHiveChannel(raw) !== undefined, "expected unix:/absolute/path.sock, pipe:\\\\.\\pipe\\name (Windows) or an http:// URL with a port on 127.0.0.1, localhost or [::1]")
    .optional(),
  heartbeatIntervalMs: integerFlag(50, 600_000).optional(),
  threads: integerFlag(1, availableParallelism(), " (the CPUs this process may use)").optional(),
  /** Tokens per slot, prompt and completion together. */
  contextSize: integerFlag(32, MAX_CONTEXT_SIZE).optional(),
  gpu: z.enum(GPU_CHOICES, { error: `expected one of ${GPU_CHOICES.join(", ")}` }).optional(),
  gpuLayers: z
    .string()
    .refine((raw) => raw === "auto" || raw === "max" || /^[0-9]{1,4}$/.test(raw), "expected auto, max or an integer 0–9999")
    .transform((raw): GpuLayers => (raw === "auto" || raw === "max" ? raw : Number(raw)))
    .optional(),
  // Every slot holds its own KV cache, so the bound is about memory rather than llama.cpp.
  parallel: integerFlag(1, MAX_SLOTS).optional(),
  /** Requests that may wait for a slot. */
  maxQueue: integerFlag(0, MAX_QUEUED_REQUESTS).optional(),
  /** Tokens llama.cpp evaluates per batch. */
  batchSize: integerFlag(1, 65_536).optional(),
  /** How long the worker's event loop polls after a token for the next, in µs (worker/token-poller.ts); 0 never polls. */
  pollUs: integerFlag(0, MAX_POLL_US).optional(),
  /** A llama.cpp build the hive compiled into the worker's catalog entry, loaded instead of node-llama-cpp's prebuilt binaries. */
  llamaBuild: z.string({ error: "expected the folder of a llama.cpp build" }).min(1, "expected the folder of a llama.cpp build").optional(),
});

/** How a worker is to run; each setting is one flag, and an undefined one is left out. */
export type WorkerLaunchSettings = z.output<typeof LaunchFlags>;

type LaunchSetting = keyof WorkerLaunchSettings;

/** Each setting's flag on the worker's command line. */
export const WORKER_FLAGS = {
  modelPath: "--model",
  modelName: "--model-name",
  workerId: "--worker-id",
  port: "--port",
  hiveChannel: "--hive-channel",
  heartbeatIntervalMs: "--heartbeat-interval-ms",
  threads: "--threads",
  contextSize: "--context-size",
  gpu: "--gpu",
  gpuLayers: "--gpu-layers",
  parallel: "--parallel",
  maxQueue: "--max-queue",
  batchSize: "--batch-size",
  pollUs: "--poll-us",
  llamaBuild: "--llama-build",
} as const satisfies Record<LaunchSetting, `--${string}`>;

const SETTINGS = Object.keys(LaunchFlags.shape) as LaunchSetting[];

/** The worker's arguments for `settings`, as the hive passes them after the worker's entry. */
export function workerLaunchArgs(settings: WorkerLaunchSettings): string[] {
  return SETTINGS.flatMap((setting) => {
    const value = settings[setting];
    return value === undefined ? [] : [WORKER_FLAGS[setting], String(value)];
  });
}

/** Reads `argv` (without node and script); throws UsageError naming the first bad flag. */
export function parseWorkerLaunch(argv: readonly string[]): WorkerLaunchSettings {
  const raw = readFlags(argv);
  const result = LaunchFlags.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const setting = SETTINGS.find((name) => name === issue?.path[0]);
  const received = setting === undefined ? undefined : raw[setting];
  const got = received === undefined ? "nothing" : JSON.stringify(received);
  throw new UsageError(`${setting === undefined ? "--" : WORKER_FLAGS[setting]}: ${issue?.message ?? "invalid"}, got ${got}`);
}

function readFlags(argv: readonly string[]): Partial<Record<LaunchSetting, string>> {
  const flagName = (setting: LaunchSetting) => WORKER_FLAGS[setting].slice("--".length);
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(SETTINGS.map((setting) => [flagName(setting), { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    });
    const flags: Partial<Record<LaunchSetting, string>> = {};
    for (const setting of SETTINGS) {
      const value = values[flagName(setting)];
      if (typeof value === "string") flags[setting] = value;
    }
    return flags;
  } catch (error) {
    // parseArgs already names the flag ("Unknown option '--prot'", "Option '--port <value>' argument missing").
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}
