// The queen's configuration: its vars and secrets (wrangler.toml, `wrangler secret put`) parsed
// and checked once per env object with zod, then read as a typed `QueenConfig`. Workers have no
// start-up hook, so the first request (or Durable Object call) is the start: a bad value is an
// `invalid_configuration` error naming the var, what was expected and what arrived.
import { z } from "zod";
import { RbeeError } from "../shared/errors.js";
import { HIVE_FRAME_RATE } from "../shared/protocol/hive-socket-limits.js";

export const DEFAULTS = {
  /** How often workers heartbeat, in ms (HEARTBEAT_INTERVAL_MS); three missed intervals and a worker is gone. */
  heartbeatIntervalMs: 5000,
  /** Largest JSON request body the queen accepts, in bytes (MAX_JSON_BODY_BYTES); larger ones get 413. */
  maxJsonBodyBytes: 1024 * 1024,
  /** Frames a hive socket may send in a burst (HIVE_FRAME_BURST) and per second after it (HIVE_FRAMES_PER_SECOND). */
  hiveFrameBurst: HIVE_FRAME_RATE.burstFrames,
  hiveFramesPerSecond: HIVE_FRAME_RATE.framesPerSecond,
} as const;

export interface QueenConfig {
  heartbeatIntervalMs: number;
  maxJsonBodyBytes: number;
  hiveFrameBurst: number;
  hiveFramesPerSecond: number;
  /** The bootstrap admin key (RBEE_ADMIN_KEY secret); undefined when it is not set. */
  adminKey: string | undefined;
}

/** Longest arriving value quoted back in an error message. */
const MAX_QUOTED_LENGTH = 80;

/** A var holding a positive whole number of `unit`; unset or empty means the default. */
function positiveIntegerVar(unit: string, fallback: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === "") return fallback;
      const parsed = Number(raw);
      if (/^\d+$/.test(raw) && Number.isSafeInteger(parsed) && parsed > 0) return parsed;
      ctx.addIssue({ code: "custom", message: `expected a positive integer (${unit}, default ${fallback}), got '${raw.slice(0, MAX_QUOTED_LENGTH)}'` });
      return z.NEVER;
    });
}

const QueenVars = z.object({
  HEARTBEAT_INTERVAL_MS: positiveIntegerVar("ms", DEFAULTS.heartbeatIntervalMs),
  MAX_JSON_BODY_BYTES: positiveIntegerVar("bytes", DEFAULTS.maxJsonBodyBytes),
  HIVE_FRAME_BURST: positiveIntegerVar("frames", DEFAULTS.hiveFrameBurst),
  HIVE_FRAMES_PER_SECOND: positiveIntegerVar("frames per second", DEFAULTS.hiveFramesPerSecond),
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
  const { HEARTBEAT_INTERVAL_MS, MAX_JSON_BODY_BYTES, HIVE_FRAME_BURST, HIVE_FRAMES_PER_SECOND, RBEE_ADMIN_KEY } = parsed.data;
  return {
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    maxJsonBodyBytes: MAX_JSON_BODY_BYTES,
    hiveFrameBurst: HIVE_FRAME_BURST,
    hiveFramesPerSecond: HIVE_FRAMES_PER_SECOND,
    adminKey: RBEE_ADMIN_KEY,
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
  }
  if (outcome instanceof RbeeError) throw outcome;
  return outcome;
}
