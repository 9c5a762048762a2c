// What a worker catalog entry records about the llama.cpp binary its worker loads: node-llama-cpp's
// prebuilt one (it loaded and passed node-llama-cpp's own check on this machine), or one the hive
// compiled for this machine's backend, with the toolchain it was compiled by and a fingerprint.
// Written by the local-build vendor (hive/provisioners/worker/llama-build/), read by
// worker-command.ts (which passes a compiled build to the worker) and the catalog listing.
import { z } from "zod";
import { WorkerDevice } from "../../../shared/protocol/worker-heartbeat.js";

export const LlamaToolchain = z.object({
  /** The C++ compiler's path and `--version` figure, e.g. `/usr/bin/c++` and `12.2.0`. */
  compiler: z.string(),
  compilerVersion: z.string(),
  cmakeVersion: z.string(),
  /** The build program CMake drove: `ninja`, `make`, or the platform's own (`msbuild`). */
  generator: z.string(),
  /** cuda builds: `nvcc --version`'s, e.g. `13.0.88`. */
  cudaVersion: z.string().optional(),
  /** vulkan builds: `glslc --version`'s (the Vulkan SDK's shader compiler). */
  glslcVersion: z.string().optional(),
});
export type LlamaToolchain = z.infer<typeof LlamaToolchain>;

/** Which llama.cpp: node-llama-cpp's version, the llama.cpp release it ships, and that release's commit. */
export const LlamaCppSource = z.object({
  nodeLlamaCpp: z.string(),
  release: z.string(),
  commit: z.string(),
});
export type LlamaCppSource = z.infer<typeof LlamaCppSource>;

export const LlamaBuildDetails = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("prebuilt"),
    backend: WorkerDevice,
    /** node-llama-cpp's version, whose prebuilt binary was checked. */
    nodeLlamaCpp: z.string(),
  }),
  z.object({
    kind: z.literal("compiled"),
    backend: WorkerDevice,
    /** The build's folder inside the entry's folder, passed to the worker as `--llama-build`. */
    folder: z.string(),
    llamaCpp: LlamaCppSource,
    toolchain: LlamaToolchain,
    /** SHA-256 of the llama.cpp source, backend, platform and toolchain: two builds with one fingerprint are the same build. */
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    builtAt: z.string(),
    /** Wall-clock seconds from unpacking the source to the checked binary. */
    buildSeconds: z.number().nonnegative(),
  }),
]);
export type LlamaBuildDetails = z.infer<typeof LlamaBuildDetails>;
