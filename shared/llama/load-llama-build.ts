// Loads a llama.cpp build that a hive compiled into its worker catalog (a folder holding
// `llama-addon.node`, its shared libraries and node-llama-cpp's `_nlcBuildMetadata.json`). The
// worker uses it for `--llama-build <folder>`; the hive uses it to check a fresh build in a child
// process before recording it (hive/provisioners/worker/llama-build/).
//
// Why this way: node-llama-cpp 3.21 looks for source builds only in its own
// `node_modules/node-llama-cpp/llama/localBuilds` (a fixed path in its config.js; no option and no
// environment variable names another folder), and `getLlama` has no option for a binary path.
// Writing there would put a machine's build inside node_modules, which may be read-only, shared by
// several installations, or replaced by the next `npm ci`. So the build stays in the catalog and is
// loaded the way getLlama loads a local build: require the addon, hand it to `Llama._create`.
// That method is node-llama-cpp's own (marked internal), which is one more reason package.json
// pins node-llama-cpp exactly; an upgrade that drops it fails here with a message saying so.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { totalmem } from "node:os";
import path from "node:path";
import { Llama, LlamaLogLevel } from "node-llama-cpp";
import { z } from "zod";

/** The addon node-llama-cpp builds, inside a build folder. */
export const LLAMA_ADDON_FILE = "llama-addon.node";
/** node-llama-cpp's description of a build, beside the addon; `getLlama` writes and reads the same file. */
export const LLAMA_BUILD_METADATA_FILE = "_nlcBuildMetadata.json";

/** The part of node-llama-cpp's build metadata that `Llama._create` reads. */
export const LlamaBuildMetadata = z.object({
  buildOptions: z
    .object({
      gpu: z.union([z.literal(false), z.enum(["cuda", "vulkan", "metal"])]),
      customCmakeOptions: z.record(z.string(), z.string()),
      llamaCpp: z.object({ repo: z.string(), release: z.string() }),
    })
    .passthrough(),
});
export type LlamaBuildMetadata = z.infer<typeof LlamaBuildMetadata>;

export interface LoadLlamaBuildOptions {
  maxThreads?: number;
  logger?: (level: LlamaLogLevel, message: string) => void;
}

type CreateLlama = (options: Record<string, unknown>) => Promise<Llama>;

/** The build in `folder`, loaded and initialised; throws naming the folder when it cannot be. */
export async function loadLlamaBuild(folder: string, options: LoadLlamaBuildOptions = {}): Promise<Llama> {
  const metadataFile = path.join(folder, LLAMA_BUILD_METADATA_FILE);
  const metadata = LlamaBuildMetadata.parse(JSON.parse(await readFile(metadataFile, "utf8")));
  const create = (Llama as unknown as { _create?: CreateLlama })._create;
  if (typeof create !== "function") {
    throw new Error(`this node-llama-cpp has no Llama._create, through which rbee loads the llama.cpp build in ${folder}; use the node-llama-cpp version in rbee's package.json`);
  }
  const bindingPath = path.join(folder, LLAMA_ADDON_FILE);
  const bindings: unknown = createRequire(import.meta.url)(bindingPath);
  return create.call(Llama, {
    bindings,
    bindingPath,
    buildType: "localBuild",
    buildMetadata: metadata,
    logLevel: LlamaLogLevel.warn,
    logger: options.logger ?? Llama.defaultConsoleLogger,
    maxThreads: options.maxThreads,
    // getLlama's own defaults (bindings/getLlama.js): what it keeps free of VRAM and RAM.
    vramPadding: (totalVram: number) => Math.floor(Math.min(totalVram * 0.08, 1.6 * 1024 ** 3)),
    ramPadding: Math.floor(Math.min(totalmem() * 0.25, (process.platform === "linux" ? 1 : 6) * 1024 ** 3)),
    debug: false,
    numa: false,
    tempDir: false,
  });
}
