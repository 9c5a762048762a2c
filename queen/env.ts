// The queen's bindings and per-request variables as Hono sees them; `Env` itself is generated
// by `wrangler types`.
import type { AuthenticatedKey } from "./auth/authenticated-key.js";
import type { QueenConfig } from "./config.js";

export interface QueenEnv {
  Bindings: Env;
  Variables: {
    /** The queen's parsed configuration; set by the config middleware before any route runs. */
    config: QueenConfig;
    /** The API key that authenticated this request; set by the API-key middleware on /v1 routes. */
    apiKey: AuthenticatedKey;
  };
}
