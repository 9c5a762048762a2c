// The local queen's entry module: what runs first for every request to the queen's port, in the
// queen's own isolate, in place of Miniflare's entry Worker.
//
// Miniflare puts an entry Worker of its own in front of every Worker it runs. It emulates what
// Cloudflare's edge does before a Worker (the `cf` object, CF-Connecting-IP, compression, pretty
// error pages, routes) and costs a second isolate per request: measured here, ~0.5 ms of workerd
// CPU and ~0.7 ms of latency on each request, /health included, which Cloudflare has no hop for.
// The queen reads none of what it adds, so the local queen's port runs this module instead, over
// a Miniflare direct socket (queen.ts). It keeps the two things the entry did that the local queen
// needs: the dashboard's paths go to the asset Worker (queen-assets.ts), and SCHEDULED_PATH runs
// the Cron Trigger's handler by hand, as under `wrangler dev`. Everything else is the queen's,
// but WRITE_BATCHES_PATH: the isolate's usage and metrics batches, written now (writeQueenBatches).
// It is bundled with the queen (queen-bundle.ts), so it shares the isolate's module state.
import { fileURLToPath } from "node:url";
import type { AssetPaths } from "./queen-assets.js";

/** The service binding the entry reaches the asset Worker by. */
export const ASSETS_BINDING = "RBEE_LOCAL_ASSETS";
/** Runs the queen's scheduled handler (the retention run): `?cron=<pattern>&time=<unix ms>`, both optional. */
export const SCHEDULED_PATH = "/cdn-cgi/handler/scheduled";

/**
 * Writes the usage and metrics the queen holds in its batches now. They are written about a
 * second after a request, under its waitUntil, and Miniflare's dispose() kills workerd (SIGKILL;
 * on SIGTERM too, workerd leaves waitUntil work undone): the last second before a clean stop
 * would be lost. POST only.
 */
export const WRITE_BATCHES_PATH = "/cdn-cgi/local/write-batches";

/** How long a clean stop waits for the batches to be written, ms; a hung queen is stopped anyway. */
const WRITE_BATCHES_TIMEOUT_MS = 5000;

const USAGE_BATCH_MODULE = fileURLToPath(new URL("../../queen/usage/record-usage.ts", import.meta.url));
const METRICS_BATCH_MODULE = fileURLToPath(new URL("../../queen/metrics/metrics-reporter.ts", import.meta.url));

/** The entry module's source, for the queen whose main module is `queenMain` and `assets` (none: the queen's only). */
export function queenEntrySource(queenMain: string, assets: AssetPaths | undefined): string {
  const queen = JSON.stringify(queenMain);
  return `
import queen from ${queen};
import { writeUsageBatchNow } from ${JSON.stringify(USAGE_BATCH_MODULE)};
import { sendMetricsBatchNow } from ${JSON.stringify(METRICS_BATCH_MODULE)};
export * from ${queen};

const FOLDERS = ${JSON.stringify((assets?.folders ?? []).map((folder) => `/${folder}`))};
const FILES = ${JSON.stringify((assets?.files ?? []).map((file) => `/${file}`))};

function isAsset(pathname) {
  return FILES.includes(pathname) || FOLDERS.some((folder) => pathname === folder || pathname.startsWith(folder + "/"));
}

async function runScheduled(searchParams, env, ctx) {
  const time = searchParams.get("time");
  const controller = { scheduledTime: time ? Number(time) : Date.now(), cron: searchParams.get("cron") ?? "", noRetry() {} };
  try {
    await queen.scheduled(controller, env, ctx);
    return new Response("ok");
  } catch (error) {
    return new Response(String(error?.stack ?? error), { status: 500 });
  }
}

async function writeBatches(env) {
  await Promise.all([writeUsageBatchNow(env.DB), sendMetricsBatchNow(env)]);
  return new Response("ok");
}

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (isAsset(url.pathname)) return env.${ASSETS_BINDING}.fetch(request);
    if (url.pathname === ${JSON.stringify(SCHEDULED_PATH)}) return runScheduled(url.searchParams, env, ctx);
    if (url.pathname === ${JSON.stringify(WRITE_BATCHES_PATH)} && request.method === "POST") return writeBatches(env);
    return queen.fetch(request, env, ctx);
  },
  scheduled: (controller, env, ctx) => queen.scheduled(controller, env, ctx),
};
`;
}

/** Has the queen at `url` write its batches (WRITE_BATCHES_PATH); one that is gone or hung already has nothing more to write. */
export async function writeQueenBatches(url: string): Promise<void> {
  try {
    const response = await fetch(`${url}${WRITE_BATCHES_PATH}`, { method: "POST", signal: AbortSignal.timeout(WRITE_BATCHES_TIMEOUT_MS) });
    await response.body?.cancel();
  } catch {
    // workerd exited (the queen keeper disposes a dead queen) or did not answer in time
  }
}
