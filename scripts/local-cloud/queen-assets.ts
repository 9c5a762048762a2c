// The queen's static assets (wrangler.toml [assets]: the dashboard) for the local queen, served by
// a Worker of their own beside it rather than in front of it.
//
// On Cloudflare, a request that matches an asset is served before the Worker runs and every other
// request reaches the Worker directly. Miniflare emulates that with three more Workers in front of
// the queen (a proxy, a router, an asset worker) that every request passes through: measured on
// the local queen, ~2 ms of CPU and ~2 ms of latency on each API request, /health included. Here
// the local queen's entry (queen-entry.ts) hands only the asset folders' paths to an asset-only
// Worker, so API requests reach the queen as they do on Cloudflare, and the dashboard is served by
// the same asset code as before (its _headers included).
import { readdirSync } from "node:fs";
import type { WorkerOptions } from "miniflare";

/** Files in an assets folder that configure the serving and are not served themselves. */
const CONFIG_FILES = new Set(["_headers", "_redirects", ".assetsignore"]);

/** The paths the assets are served on: a folder's path and everything under it, a file's path. */
export interface AssetPaths {
  /** Top-level folders, e.g. `dashboard` for /dashboard and /dashboard/…. */
  folders: string[];
  /** Top-level files, e.g. `favicon.ico`. */
  files: string[];
}

export interface SeparatedAssets<Queen> {
  queen: Queen;
  /** The asset-only Worker and the paths it serves; undefined when the queen has no assets. */
  assets: { worker: WorkerOptions; paths: AssetPaths } | undefined;
}

/**
 * The Miniflare Worker that serves `assets` (for queen/public: /dashboard and everything under
 * it, a missing file its 404), the paths it serves, and the queen's options without them.
 */
export function separateAssets<Options extends { assets?: WorkerOptions["assets"]; compatibilityDate?: string; compatibilityFlags?: string[] }>(
  queen: Options,
  name: string,
): SeparatedAssets<Omit<Options, "assets">> {
  const { assets, ...rest } = queen;
  if (assets === undefined) return { queen: rest, assets: undefined };
  const entries = readdirSync(assets.directory, { withFileTypes: true }).filter((entry) => !CONFIG_FILES.has(entry.name));
  return {
    queen: rest,
    assets: {
      worker: {
        name,
        compatibilityDate: queen.compatibilityDate,
        compatibilityFlags: queen.compatibilityFlags,
        modules: [{ type: "ESModule", path: "queen-assets.mjs", contents: "export default { fetch: (request, env) => env.ASSETS.fetch(request) };" }],
        assets: { ...assets, binding: "ASSETS" },
      },
      paths: {
        folders: entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name),
        files: entries.filter((entry) => !entry.isDirectory()).map((entry) => entry.name),
      },
    },
  };
}
