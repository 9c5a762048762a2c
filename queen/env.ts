// The queen's bindings and per-request variables as Hono sees them; `Env` itself is generated
// by `wrangler types`.
import type { AuthenticatedKey } from "./auth/authenticated-key.js";
import type { QueenConfig } from "./config.js";
import type { InferenceFacts } from "./observability/inference-outcome.js";
import type { StreamMeter } from "./usage/stream-meter.js";
import type { UsageCeiling } from "./usage/usage-ceiling.js";

export interface QueenEnv {
  Bindings: Env;
  Variables: {
    /** The queen's parsed configuration; set by the config middleware before any route runs. */
    config: QueenConfig;
    /** The API key that authenticated this request; set by the API-key middleware on /v1 routes. */
    apiKey: AuthenticatedKey;
    /** This request's id (observability/request-id.ts): the client's X-Request-Id, or one the queen made. */
    requestId: string;
    /** The id the first relay of this request runs under at the hive and the worker; see request-id.ts. */
    relayId: string;
    /** Set by the inference routes as they learn it (model, then the hive and worker serving it). */
    inference: InferenceFacts | undefined;
    /** The request's body as text, read whole before the route by http/body-limit.ts; undefined for a request without one. */
    bodyText: string | undefined;
    /** A stream whose client did not ask for its usage chunk, which the queen asked for (usage/unasked-usage.ts). */
    usageUnasked: boolean | undefined;
    /** Counts a streamed answer's tokens as it is relayed; set by the usage meter (usage/meter-usage.ts) on the inference routes. */
    streamMeter: StreamMeter | undefined;
    /**
     * The relayed answer came back whole, as text (hive-session/whole-answer.ts): a JSON answer
     * built from it is short and all here, and the usage meter reads it whole (usage/meter-usage.ts).
     */
    wholeAnswer: boolean | undefined;
    /** The most tokens the relayed answer's usage is billed at (usage/usage-ceiling.ts); set by the inference relay. */
    usageCeiling: UsageCeiling | undefined;
  };
}
