// GET /v1/dashboard/events (admin, like every /v1 path that is not OpenAI's: auth/route-scope.ts):
// the live dashboard's feed, Server-Sent Events of whole snapshots (dashboard/snapshot-stream.ts).
// The page itself is a static asset (queen/public/dashboard/, wrangler.toml [assets]) and holds
// no data; it reads this with fetch and an Authorization header, which EventSource cannot send.
import { Hono } from "hono";
import { keyStanding } from "../auth/key-standing.js";
import { buildSnapshot } from "../dashboard/build-snapshot.js";
import { snapshotStream } from "../dashboard/snapshot-stream.js";
import type { QueenEnv } from "../env.js";

export const dashboardRoutes = new Hono<QueenEnv>().get("/events", (c) => {
  const body = snapshotStream(() => buildSnapshot(c.env), c.req.raw.signal, { standing: () => keyStanding(c.env, c.var.apiKey, false) });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
  });
});
