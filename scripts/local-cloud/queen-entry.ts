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
// the Cron Trigger's handler by hand, as under `wrangler dev`. Everything else is the queen's.
import { basename, dirname, join } from "node:path";
import type { AssetPaths } from "./queen-assets.js";

/** The service binding the entry reaches the asset Worker by. */
export const ASSETS_BINDING = "RBEE_LOCAL_ASSETS";
/** Runs the queen's scheduled handler (the retention run): `?cron=<pattern>&time=<unix ms>`, both optional. */
export const SCHEDULED_PATH = "/cdn-cgi/handler/scheduled";

/** The entry module, beside the queen's bundle at `queenPath`, for `assets` (none: the queen's only). */
export function queenEntryModule(queenPath: string, assets: AssetPaths | undefined): { path: string; contents: string } {
  const queen = JSON.stringify(`./${basename(queenPath)}`);
  const contents = `
import queen from ${queen};
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

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (isAsset(url.pathname)) return env.${ASSETS_BINDING}.fetch(request);
    if (url.pathname === ${JSON.stringify(SCHEDULED_PATH)}) return runScheduled(url.searchParams, env, ctx);
    return queen.fetch(request, env, ctx);
  },
  scheduled: (controller, env, ctx) => queen.scheduled(controller, env, ctx),
};
`;
  return { path: join(dirname(queenPath), "local-entry.mjs"), contents };
}
