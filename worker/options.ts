// The worker's options: its launch flags (shared/protocol/worker-launch.ts, which the hive builds
// them from) parsed once and completed with the worker's defaults, so the rest of the worker only
// ever sees a typed `WorkerOptions`.
import {
  DEFAULT_POLL_US,
  GPU_CHOICES,
  type GpuChoice,
  type GpuLayers,
  MAX_DEFAULT_CONTEXT_SIZE,
  MIN_WORKER_SECRET_CHARS,
  parseWorkerLaunch,
  WORKER_SECRET_ENV,
} from "../shared/protocol/worker-launch.js";
import { UsageError } from "../shared/usage-error.js";
import { physicalCoreCount } from "./cpu-cores.js";

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
  maxDefaultContextSize: MAX_DEFAULT_CONTEXT_SIZE,
  gpu: "auto" as GpuChoice,
  /**
   * µs the event loop polls after a token for the next one: tokens that come faster than this are
   * not slowed by a wake-up each (worker/token-poller.ts); slower ones never poll.
   */
  pollUs: DEFAULT_POLL_US,
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
  /** µs the event loop polls after a token for the next one when tokens come that fast; 0 never polls. */
  pollUs: number;
  /** The folder of a llama.cpp build compiled by the hive; undefined uses node-llama-cpp's prebuilt binaries. */
  llamaBuild: string | undefined;
}

export const USAGE = `Usage: node --import tsx worker/main.ts --model <file.gguf> --model-name <name> --worker-id <wrk_…> --port <n>
  [--hive-channel <unix:/path.sock | http://127.0.0.1:…>] [--heartbeat-interval-ms <ms, default ${DEFAULTS.heartbeatIntervalMs}>]
  [--threads <n, default ${DEFAULTS.threads}: physical cores>] [--parallel <slots, default ${DEFAULTS.parallel}>]
  [--max-queue <requests waiting for a slot, default ${DEFAULTS.queuedPerSlot}×parallel>]
  [--context-size <tokens per slot, default min(trained, ${DEFAULTS.maxDefaultContextSize})>] [--batch-size <tokens>]
  [--gpu ${GPU_CHOICES.join("|")}, default ${DEFAULTS.gpu}] [--gpu-layers <n|auto|max, default ${DEFAULTS.gpuLayers}>]
  [--poll-us <µs the event loop polls after a token for the next, when tokens come that fast; 0: never; default ${DEFAULTS.pollUs};
    never on a CPU whose every core computes (--threads ≥ CPUs)>]
  [--llama-build <folder of a llama.cpp build the hive compiled, default: node-llama-cpp's prebuilt binaries>]
Environment: ${WORKER_SECRET_ENV}=<secret> (required, at least ${MIN_WORKER_SECRET_CHARS} characters): every request must send
  Authorization: Bearer <secret>. The hive sets it; an environment variable, because ps shows flags to everyone.`;

/** Parses `argv` (without node and script) and fills in DEFAULTS; throws UsageError on the first problem. */
export function parseWorkerOptions(argv: readonly string[]): WorkerOptions {
  const flags = parseWorkerLaunch(argv);
  const parallel = flags.parallel ?? DEFAULTS.parallel;
  return {
    modelPath: flags.modelPath,
    modelName: flags.modelName,
    workerId: flags.workerId,
    port: flags.port,
    hiveChannel: flags.hiveChannel,
    heartbeatIntervalMs: flags.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
    threads: flags.threads ?? DEFAULTS.threads,
    contextSize: flags.contextSize,
    gpu: flags.gpu ?? DEFAULTS.gpu,
    gpuLayers: flags.gpuLayers ?? DEFAULTS.gpuLayers,
    parallel,
    maxQueue: flags.maxQueue ?? DEFAULTS.queuedPerSlot * parallel,
    batchSize: flags.batchSize,
    pollUs: flags.pollUs ?? DEFAULTS.pollUs,
    llamaBuild: flags.llamaBuild,
  };
}

/** The API secret from the environment (never a flag: `ps` shows flags); throws UsageError without one. */
export function readWorkerSecret(env: NodeJS.ProcessEnv): string {
  const secret = env[WORKER_SECRET_ENV];
  if (secret === undefined || secret.length < MIN_WORKER_SECRET_CHARS || /\s/.test(secret)) {
    const got = secret === undefined ? "nothing" : `${secret.length} characters${/\s/.test(secret) ? " with whitespace" : ""}`;
    throw new UsageError(`${WORKER_SECRET_ENV}: expected a secret of at least ${MIN_WORKER_SECRET_CHARS} characters without whitespace, which clients send as Authorization: Bearer <secret>; got ${got}`);
  }
  return secret;
}

/** True when the user asked for usage rather than a worker. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}
