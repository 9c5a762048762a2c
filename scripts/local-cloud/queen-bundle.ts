// Bundles the queen Worker (wrangler.toml's `main`) into one ES module the way `wrangler dev`
// and `wrangler deploy` do (esbuild, the same target, conditions and defines), for the local
// queen that runs it on Miniflare directly (queen.ts). Its entry is the local entry module
// (queen-entry.ts), bundled with the queen so that it shares the queen's module state (the usage
// and metrics batches it writes at a clean stop). In memory: nothing is written to disk.
import { dirname } from "node:path";
import { build } from "esbuild";

export interface QueenBundle {
  /** The module's path, which names it in workerd's stack traces. */
  path: string;
  contents: string;
}

/**
 * wrangler's own esbuild settings (wrangler 4.86, bundleWorker and COMMON_ESBUILD_OPTIONS):
 * workerd's import conditions, es2024, `cloudflare:*` left to the runtime, NODE_ENV defined. The
 * queen uses no nodejs_compat, no module rules beyond TypeScript and no wrangler middleware
 * Cloudflare would not run too, so this is all of it. `entrySource` imports `main` (the queen's
 * own entry, wrangler.toml's `main`), whose path names the bundle.
 */
export async function bundleQueen(main: string, entrySource: string, define: Record<string, string>): Promise<QueenBundle> {
  const nodeEnv = JSON.stringify(process.env.NODE_ENV ?? "development");
  const result = await build({
    stdin: { contents: entrySource, resolveDir: dirname(main), sourcefile: "local-entry.mjs", loader: "js" },
    bundle: true,
    write: false,
    outfile: main.replace(/\.[cm]?[jt]s$/, ".bundle.mjs"),
    format: "esm",
    target: "es2024",
    supported: { "import-source": true },
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    define: { "process.env.NODE_ENV": nodeEnv, "global.process.env.NODE_ENV": nodeEnv, "globalThis.process.env.NODE_ENV": nodeEnv, ...define },
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error(`esbuild wrote no bundle for ${main}`);
  return { path: output.path, contents: output.text };
}
