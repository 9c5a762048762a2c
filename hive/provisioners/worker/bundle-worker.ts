// Bundles this repository's worker (worker/main.ts) with esbuild into a folder that holds no
// node_modules, for the local-build vendor and `npm run release:worker`. Everything is bundled
// except node-llama-cpp, which carries native binaries and finds them relative to its own files.
// Where it comes from depends on where the bundle runs:
// - a local build runs on the machine that built it: the import is rewritten to an absolute
//   file:// URL of this installation's copy, so the bundle runs from any folder (and another
//   checkout of rbee sharing the cache builds it again: localBuildStaleness);
// - a release runs on other machines: the import stays the bare `node-llama-cpp`, resolved there
//   from the hive's own installation (the install links it beside the bundle, see
//   host-node-llama-cpp.ts). Shipping node-llama-cpp inside the release instead would mean one
//   archive per GPU flavour of hundreds of MB (its CUDA binaries alone are ~500 MB) that still
//   fails where the prebuilt binaries do not load; the hive already has the right binaries for
//   its machine (npm installed them for its OS, CPU and GPU, or the hive built them).
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { RbeeError } from "../../../shared/errors.js";

/** The file to start, inside the output folder. */
export const BUNDLE_ENTRY = "worker.mjs";
/** Lazily loaded parts of the worker (see below), beside the entry. */
const CHUNKS_FOLDER = "chunks";

/** Where the bundle finds node-llama-cpp: this installation's copy, or the running machine's (a release). */
export type NodeLlamaCppLink = "this-installation" | "at-run-time";

export interface WorkerBundle {
  entry: string;
  /** All output files together, in bytes. */
  sizeBytes: number;
}

/** Builds `<repoRoot>/worker/main.ts` into `<folder>/worker.mjs` (and its chunks); cancellable. */
export async function bundleWorker(repoRoot: string, folder: string, signal: AbortSignal, link: NodeLlamaCppLink = "this-installation"): Promise<WorkerBundle> {
  signal.throwIfAborted();
  await removeEarlierOutput(folder);
  const context = await esbuild.context({
    absWorkingDir: repoRoot,
    entryPoints: { worker: path.join(repoRoot, "worker", "main.ts") },
    outdir: folder,
    outExtension: { ".js": ".mjs" },
    // Splitting keeps main.ts's `await import("./engine.js")` lazy. In one file, esbuild hoists
    // the engine's external `import … from "node-llama-cpp"` to the top, and the worker would pay
    // ~0.6 s of node-llama-cpp loading before it even reads its flags or handles SIGTERM.
    splitting: true,
    chunkNames: `${CHUNKS_FOLDER}/[name]-[hash]`,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: false,
    // No bundled dependency calls `require` today (zod is ESM); this keeps a future CJS one working
    // instead of failing at run time with esbuild's "Dynamic require of … is not supported".
    banner: { js: 'import { createRequire as __rbeeCreateRequire } from "node:module"; const require = __rbeeCreateRequire(import.meta.url);' },
    plugins: [link === "this-installation" ? externalNodeLlamaCpp : bareNodeLlamaCpp],
    metafile: true,
    logLevel: "silent",
  });
  const onAbort = () => void context.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await context.rebuild();
    signal.throwIfAborted();
    const sizeBytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
    return { entry: BUNDLE_ENTRY, sizeBytes };
  } catch (error) {
    signal.throwIfAborted();
    throw new RbeeError(500, "worker_build_failed", `could not bundle ${path.join(repoRoot, "worker", "main.ts")}: ${buildMessage(error)}; check that the repository type-checks (npx tsc --noEmit)`, { cause: error });
  } finally {
    signal.removeEventListener("abort", onAbort);
    await context.dispose();
  }
}

/** node-llama-cpp and its subpaths (`node-llama-cpp/commands`). */
const NODE_LLAMA_CPP = /^node-llama-cpp(\/.*)?$/;

/**
 * Marks node-llama-cpp (and its subpaths) external under the absolute URL of the file esbuild
 * resolves it to from the importing file, i.e. the copy this worker was developed against.
 */
const externalNodeLlamaCpp: esbuild.Plugin = {
  name: "rbee-external-node-llama-cpp",
  setup(build) {
    build.onResolve({ filter: NODE_LLAMA_CPP }, async (args) => {
      if (args.pluginData === INNER_RESOLVE) return undefined; // our own lookup below: resolve normally
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: INNER_RESOLVE });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: pathToFileURL(resolved.path).href, external: true };
    });
  },
};
const INNER_RESOLVE = Symbol("rbee-inner-resolve");

/** Marks node-llama-cpp external under its bare name, for the machine that runs the bundle to resolve. */
const bareNodeLlamaCpp: esbuild.Plugin = {
  name: "rbee-bare-node-llama-cpp",
  setup(build) {
    build.onResolve({ filter: NODE_LLAMA_CPP }, (args) => ({ path: args.path, external: true }));
  },
};

/** Chunk names carry content hashes, so a rebuild would otherwise leave stale chunks beside new ones. */
async function removeEarlierOutput(folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => []);
  for (const name of names) {
    if (name === CHUNKS_FOLDER || name === BUNDLE_ENTRY) await rm(path.join(folder, name), { recursive: true, force: true });
  }
}

function buildMessage(error: unknown): string {
  if (error instanceof Error && "errors" in error && Array.isArray(error.errors)) {
    const first = (error.errors as esbuild.Message[])[0];
    if (first) return first.location ? `${first.location.file}:${first.location.line}: ${first.text}` : first.text;
  }
  return error instanceof Error ? error.message : String(error);
}
