// The queen's configuration: its vars and secrets (wrangler.toml, `wrangler secret put`) parsed
// and checked once per env object with zod, then read as a typed `QueenConfig`. Workers have no
// start-up hook, so the first request (or Durable Object call) is the start: a bad value is an
// `invalid_configuration` error naming the var, what was expected and what arrived.
import { z } from "zod";
import { isTooShortForAdminKey, MIN_ADMIN_KEY_LENGTH } from "../shared/admin-key.js";
import { RbeeError } from "../shared/errors.js";
import { HIVE_FRAME_RATE } from "../shared/protocol/hive-socket-limits.js";

export const DEFAULTS = {
  /** How often workers heartbeat, in ms (HEARTBEAT_INTERVAL_MS); three missed intervals and a worker is gone. */
  heartbeatIntervalMs: 5000,
  /** Largest JSON request body the queen accepts, in bytes (MAX_JSON_BODY_BYTES); larger ones get 413. */
  maxJsonBodyBytes: 1024 * 1024,
  /** Length of one rate-limit window, in ms (RATE_LIMIT_WINDOW_MS); the per-key and per-address limits count within it. */
  rateLimitWindowMs: 60_000,
  /** Requests one API key may make per window (RATE_LIMIT_PER_KEY); 0 turns the limit off. The bootstrap admin key counts as one key. */
  rateLimitPerKey: 12_000,
  /** Requests one client address may make per window, failed authentications included (RATE_LIMIT_PER_ADDRESS); 0 turns it off. */
  rateLimitPerAddress: 24_000,
  /** How long one isolate keeps refusing a key D1 did not know, in ms (UNKNOWN_KEY_CACHE_MS); 0 asks D1 every time. */
  unknownKeyCacheMs: 15_000,
  /** Days a finished job's D1 record is kept after it ended (JOB_RETENTION_DAYS). */
  jobRetentionDays: 30,
  /** Days a stopped worker's worker_history row is kept (WORKER_HISTORY_RETENTION_DAYS). */
  workerHistoryRetentionDays: 30,
  /** Days a hive's model is remembered after a worker last started or stopped with it (HIVE_MODEL_RETENTION_DAYS). */
  hiveModelRetentionDays: 90,
  /** Days of per-key daily usage kept (USAGE_RETENTION_DAYS); a bit over a year, for year-on-year bills. */
  usageRetentionDays: 400,
  /** Frames a hive socket may send in a burst (HIVE_FRAME_BURST) and per second after it (HIVE_FRAMES_PER_SECOND). */
  hiveFrameBurst: HIVE_FRAME_RATE.burstFrames,
  hiveFramesPerSecond: HIVE_FRAME_RATE.framesPerSecond,
  /** Requests one model may have waiting in the queen's queue (QUEUE_MAX_PER_MODEL); one more gets 429 queue_full. */
  queueMaxPerModel: 256,
  /** Seconds a request may wait and run when it sends no X-Request-Timeout (REQUEST_TIMEOUT_SECONDS). */
  requestTimeoutSeconds: 300,
  /** How long a worker with no request stays loaded, in seconds (KEEP_ALIVE_SECONDS); a request's `keep_alive` overrides it. */
  keepAliveSeconds: 300,
  /** Least time a loaded worker stays before another model may swap it out, in seconds (SWAP_MIN_RESIDENCY_SECONDS). */
  swapMinResidencySeconds: 60,
  /**
   * Seconds a model's requests wait for room that busy workers of other models hold before one of
   * them is drained for it (SWAP_DRAIN_AFTER_SECONDS; 0: never, they wait until those models' queues empty).
   */
  swapDrainAfterSeconds: 10,
  /** Workers one hive may run at once (MAX_WORKERS_PER_HIVE): spawns and heartbeats beyond it are refused. */
  maxWorkersPerHive: 64,
  /**
   * Seconds a worker may stay silent while its hive is connected before the queen stops it
   * (WEDGED_WORKER_STOP_SECONDS; 0: never): it was dropped after three missed heartbeats, and a
   * hung one still holds its memory and device. One heard again before then was only slow.
   */
  wedgedWorkerStopSeconds: 60,
  /** Origins whose browser pages may call the API (CORS_ORIGINS): any, as OpenAI's own API allows. */
  corsOrigins: "*",
} as const;

export interface QueenConfig {
  heartbeatIntervalMs: number;
  maxJsonBodyBytes: number;
  rateLimitWindowMs: number;
  /** 0: no per-key limit. */
  rateLimitPerKey: number;
  /** 0: no per-address limit. */
  rateLimitPerAddress: number;
  /** 0: unknown keys are not cached. */
  unknownKeyCacheMs: number;
  jobRetentionDays: number;
  workerHistoryRetentionDays: number;
  hiveModelRetentionDays: number;
  usageRetentionDays: number;
  hiveFrameBurst: number;
  hiveFramesPerSecond: number;
  queueMaxPerModel: number;
  requestTimeoutSeconds: number;
  keepAliveSeconds: number;
  swapMinResidencySeconds: number;
  /** 0: busy workers are never drained for a starving model. */
  swapDrainAfterSeconds: number;
  maxWorkersPerHive: number;
  /** 0: silent workers are never stopped. */
  wedgedWorkerStopSeconds: number;
  /** "*": any origin; a list: only those; empty: no CORS headers at all (CORS_ORIGINS "none"). */
  corsOrigins: "*" | readonly string[];
  /** The bootstrap admin key (RBEE_ADMIN_KEY secret); undefined when it is not set. One shorter than MIN_ADMIN_KEY_LENGTH is refused when presented. */
  adminKey: string | undefined;
}

/** Longest arriving value quoted back in an error message. */
const MAX_QUOTED_LENGTH = 80;

/** A var holding a positive whole number of `unit`; unset or empty means the default. */
function positiveIntegerVar(unit: string, fallback: number) {
  return integerVar("a positive integer", 1, unit, fallback);
}

/** A var holding a whole number of `unit` where 0 turns the feature off; unset or empty means the default. */
function offOrIntegerVar(unit: string, fallback: number) {
  return integerVar("0 (off) or a positive integer", 0, unit, fallback);
}

function integerVar(expected: string, least: number, unit: string, fallback: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === "") return fallback;
      const parsed = Number(raw);
      if (/^\d+$/.test(raw) && Number.isSafeInteger(parsed) && parsed >= least) return parsed;
      ctx.addIssue({ code: "custom", message: `expected ${expected} (${unit}, default ${fallback}), got '${raw.slice(0, MAX_QUOTED_LENGTH)}'` });
      return z.NEVER;
    });
}

const CORS_ORIGINS_EXPECTED = `"*" (any origin, the default), "none", or a comma-separated list of origins such as https://chat.example.com`;

/** CORS_ORIGINS: "*", "none", or origins as browsers send them (scheme, host and any port; no path). */
const corsOriginsVar = z
  .string()
  .optional()
  .transform((raw, ctx): "*" | readonly string[] => {
    const value = raw?.trim() ?? "";
    if (value === "" || value === "*") return "*";
    if (value === "none") return [];
    const origins = value.split(",").map((origin) => origin.trim());
    const bad = origins.find((origin) => !isOrigin(origin));
    if (bad === undefined) return origins;
    ctx.addIssue({ code: "custom", message: `expected ${CORS_ORIGINS_EXPECTED}; '${bad.slice(0, MAX_QUOTED_LENGTH)}' is not an origin` });
    return z.NEVER;
  });

function isOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "https:" || url.protocol === "http:") && url.origin === text;
}

const QueenVars = z.object({
  HEARTBEAT_INTERVAL_MS: positiveIntegerVar("ms", DEFAULTS.heartbeatIntervalMs),
  MAX_JSON_BODY_BYTES: positiveIntegerVar("bytes", DEFAULTS.maxJsonBodyBytes),
  RATE_LIMIT_WINDOW_MS: positiveIntegerVar("ms", DEFAULTS.rateLimitWindowMs),
  RATE_LIMIT_PER_KEY: offOrIntegerVar("requests per window", DEFAULTS.rateLimitPerKey),
  RATE_LIMIT_PER_ADDRESS: offOrIntegerVar("requests per window", DEFAULTS.rateLimitPerAddress),
  UNKNOWN_KEY_CACHE_MS: offOrIntegerVar("ms", DEFAULTS.unknownKeyCacheMs),
  JOB_RETENTION_DAYS: positiveIntegerVar("days", DEFAULTS.jobRetentionDays),
  WORKER_HISTORY_RETENTION_DAYS: positiveIntegerVar("days", DEFAULTS.workerHistoryRetentionDays),
  HIVE_MODEL_RETENTION_DAYS: positiveIntegerVar("days", DEFAULTS.hiveModelRetentionDays),
  USAGE_RETENTION_DAYS: positiveIntegerVar("days", DEFAULTS.usageRetentionDays),
  HIVE_FRAME_BURST: positiveIntegerVar("frames", DEFAULTS.hiveFrameBurst),
  HIVE_FRAMES_PER_SECOND: positiveIntegerVar("frames per second", DEFAULTS.hiveFramesPerSecond),
  QUEUE_MAX_PER_MODEL: positiveIntegerVar("requests", DEFAULTS.queueMaxPerModel),
  REQUEST_TIMEOUT_SECONDS: positiveIntegerVar("seconds", DEFAULTS.requestTimeoutSeconds),
  KEEP_ALIVE_SECONDS: offOrIntegerVar("seconds", DEFAULTS.keepAliveSeconds),
  SWAP_MIN_RESIDENCY_SECONDS: offOrIntegerVar("seconds", DEFAULTS.swapMinResidencySeconds),
  SWAP_DRAIN_AFTER_SECONDS: offOrIntegerVar("seconds", DEFAULTS.swapDrainAfterSeconds),
  MAX_WORKERS_PER_HIVE: positiveIntegerVar("workers", DEFAULTS.maxWorkersPerHive),
  WEDGED_WORKER_STOP_SECONDS: offOrIntegerVar("seconds", DEFAULTS.wedgedWorkerStopSeconds),
  CORS_ORIGINS: corsOriginsVar,
  // An empty secret is no secret: the same as an unset one. Its value is never quoted back.
  RBEE_ADMIN_KEY: z
    .string()
    .optional()
    .transform((key) => (key === "" ? undefined : key)),
});

/** The vars this module reads, as loose as they may arrive (tests pass partial objects). */
export type QueenVarsInput = { [Name in keyof z.input<typeof QueenVars>]?: unknown };

/** Parses the queen's vars; throws an `invalid_configuration` RbeeError naming every bad one. */
export function parseQueenConfig(vars: QueenVarsInput): QueenConfig {
  const parsed = QueenVars.safeParse(vars);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new RbeeError(500, "invalid_configuration", `The queen's configuration is invalid: ${problems.join("; ")}.`);
  }
  const values = parsed.data;
  return {
    heartbeatIntervalMs: values.HEARTBEAT_INTERVAL_MS,
    maxJsonBodyBytes: values.MAX_JSON_BODY_BYTES,
    rateLimitWindowMs: values.RATE_LIMIT_WINDOW_MS,
    rateLimitPerKey: values.RATE_LIMIT_PER_KEY,
    rateLimitPerAddress: values.RATE_LIMIT_PER_ADDRESS,
    unknownKeyCacheMs: values.UNKNOWN_KEY_CACHE_MS,
    jobRetentionDays: values.JOB_RETENTION_DAYS,
    workerHistoryRetentionDays: values.WORKER_HISTORY_RETENTION_DAYS,
    hiveModelRetentionDays: values.HIVE_MODEL_RETENTION_DAYS,
    usageRetentionDays: values.USAGE_RETENTION_DAYS,
    hiveFrameBurst: values.HIVE_FRAME_BURST,
    hiveFramesPerSecond: values.HIVE_FRAMES_PER_SECOND,
    queueMaxPerModel: values.QUEUE_MAX_PER_MODEL,
    requestTimeoutSeconds: values.REQUEST_TIMEOUT_SECONDS,
    keepAliveSeconds: values.KEEP_ALIVE_SECONDS,
    swapMinResidencySeconds: values.SWAP_MIN_RESIDENCY_SECONDS,
    swapDrainAfterSeconds: values.SWAP_DRAIN_AFTER_SECONDS,
    maxWorkersPerHive: values.MAX_WORKERS_PER_HIVE,
    wedgedWorkerStopSeconds: values.WEDGED_WORKER_STOP_SECONDS,
    corsOrigins: values.CORS_ORIGINS,
    adminKey: values.RBEE_ADMIN_KEY,
  };
}

// The env object lives as long as its isolate (or Durable Object), so it is parsed once per env;
// a bad one is remembered too, so its error is logged once rather than on every request.
const parsedByEnv = new WeakMap<object, QueenConfig | RbeeError>();

/** The configuration of `env`, parsed on first use; throws the same error each time when it is bad. */
export function queenConfig(env: QueenVarsInput): QueenConfig {
  let outcome = parsedByEnv.get(env);
  if (outcome === undefined) {
    try {
      outcome = parseQueenConfig(env);
    } catch (error) {
      if (!(error instanceof RbeeError)) throw error;
      console.error(error.message);
      outcome = error;
    }
    parsedByEnv.set(env, outcome);
    if (!(outcome instanceof RbeeError) && outcome.adminKey !== undefined && isTooShortForAdminKey(outcome.adminKey)) {
      // The key itself is refused where it is presented (auth/api-key.ts); this says so in the log too.
      console.error(`RBEE_ADMIN_KEY is shorter than ${MIN_ADMIN_KEY_LENGTH} characters: the queen refuses it (weak_admin_key). Put a long random one: openssl rand -hex 32 | npx wrangler secret put RBEE_ADMIN_KEY`);
    }
  }
  if (outcome instanceof RbeeError) throw outcome;
  return outcome;
}
