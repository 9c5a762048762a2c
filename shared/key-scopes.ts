// What an API key may do, as the queen checks it (queen/auth/route-scope.ts) and the `rbee` CLI
// offers it (`rbee keys create --scopes`): defined once for both.
import { z } from "zod";

/**
 * `inference`: the OpenAI endpoints. `admin`: everything else under /v1 (keys, hives, workers,
 * usage…) and GET /metrics. `metrics`: GET /metrics only, for a Prometheus scraper.
 */
export const Scope = z.enum(["inference", "admin", "metrics"]);
export type Scope = z.infer<typeof Scope>;
