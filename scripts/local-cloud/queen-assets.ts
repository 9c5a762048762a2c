// The queen's static assets (wrangler.toml [assets]: the dashboard) for the local queen, served by
// a Worker of their own beside it rather than in front of it.
//
// On Cloudflare, a request that matches an asset is served before the Worker runs and every other
// request reaches the Worker directly. Miniflare emulates that with three more Workers in front of
// the queen (a proxy, a router, an asset worker) that every request passes through: measured on
// the local queen, ~2 ms of CPU and ~2 ms of latency on each API request, /health included. Here
// the entry routes only the asset folders' paths to an asset-only Worker, so API requests reach the
// queen as they do on Cloudflare, and the dashboard is served by the same asset code as before
// (its _headers included).
import { readdirSync } from "node:fs";
import type { WorkerOptions } from "miniflare";

/** Files in an assets folder that configure the serving and are not served themselves. */
const CONFIG_FILES = new Set(["_headers", "_redirects", ".assetsignore"]);

/**
 * The Miniflare Worker that serves `assets` on the paths of its top-level entries (for
 * queen/public: /dashboard and everything under it), and the queen's options without them.
 */
export function separateAssets<Options extends { assets?: WorkerOptions["assets"]; compatibilityDate?: string; compatibilityFlags?: string[] }>(
  queen: Options,
  name: string,
): { queen: Omit<Options, "assets">; assets: WorkerOptions | undefined } {
  const { assets, ...rest } = queen;
  if (assets === undefined) return { queen: rest, assets: undefined };
  const entries = readdirSync(assets.directory, { withFileTypes: true }).filter((entry) => !CONFIG_FILES.has(entry.name));
  return {
    queen: rest,
    assets: {
      name,
      compatibilityDate: queen.compatibilityDate,
      compatibilityFlags: queen.compatibilityFlags,
      // Miniflare's routes reach a Worker's own code, not its assets: the code hands each request to
      // them (a missing file is the asset worker's 404).
      modules: [{ type: "ESModule", path: "queen-assets.mjs", contents: "export default { fetch: (request, env) => env.ASSETS.fetch(request) };" }],
      assets: { ...assets, binding: "ASSETS" },
      // A folder's path (redirected to its trailing slash) and everything in it, a file's path; on any host.
      routes: entries.flatMap((entry) => (entry.isDirectory() ? [`*/${entry.name}`, `*/${entry.name}/*`] : [`*/${entry.name}`])),
    },
  };
}
