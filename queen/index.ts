// The queen Worker: the Hono app as the fetch handler, plus its Durable Object classes.
import { app } from "./app.js";

export { HiveSession } from "./hive-session/hive-session.js";
export { JobSession } from "./jobs/job-session.js";
export { RateLimiter } from "./limits/rate-limiter.js";
export { Registry } from "./registry/registry.js";

export default app satisfies ExportedHandler<Env>;
