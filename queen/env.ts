// The queen's bindings and per-request variables as Hono sees them; `Env` itself is generated
// by `wrangler types`.
import type { AuthenticatedKey } from "./auth/authenticated-key.js";

export interface QueenEnv {
  Bindings: Env;
  Variables: {
    /** The API key that authenticated this request; set by the API-key middleware on /v1 routes. */
    apiKey: AuthenticatedKey;
  };
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;

/** The workers' heartbeat interval, from the HEARTBEAT_INTERVAL_MS var (ms). */
export function heartbeatIntervalMs(env: Env): number {
  const parsed = Number(env.HEARTBEAT_INTERVAL_MS);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : DEFAULT_HEARTBEAT_INTERVAL_MS;
}
