// The queen Worker: the Hono app as the fetch handler, the daily retention run as the scheduled
// handler (the Cron Trigger in wrangler.toml), plus its Durable Object classes.
import { app } from "./app.js";
import { queenConfig } from "./config.js";
import { expireUnfinishedJobs } from "./retention/expire-unfinished-jobs.js";
import { pruneRecords } from "./retention/prune-records.js";

export { HiveSession } from "./hive-session/hive-session.js";
export { JobSession } from "./jobs/job-session.js";
export { Metrics } from "./metrics/metrics-store.js";
export { RateLimiter } from "./limits/rate-limiter.js";
export { ResponseStore } from "./dialects/responses/response-store.js";
export { Registry } from "./registry/registry.js";

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    const pruned = await pruneRecords(env.DB, queenConfig(env), controller.scheduledTime);
    const expired = await expireUnfinishedJobs(env, controller.scheduledTime);
    console.log(`retention: deleted ${JSON.stringify(pruned)}; unfinished jobs ${JSON.stringify(expired)}`);
  },
} satisfies ExportedHandler<Env>;
