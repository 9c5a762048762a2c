// The llama.cpp source a local build compiles: the one node-llama-cpp ships as a git bundle
// (llama/gitRelease.bundle) with its addon's CMakeLists.txt and C++ sources, so a build needs no
// network. node-llama-cpp's own `source build` unpacks them inside node_modules; this assembles
// the same tree in a work folder the build owns (node_modules may be read-only or shared), then
// applies the patches node-llama-cpp applies (llama/patches), skipping any the release already has.
import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { execa } from "execa";
import { z } from "zod";
import { RbeeError } from "../../../../shared/errors.js";
import type { LlamaCppSource } from "../../../catalog/worker/llama-build-details.js";
import { runBuildStep } from "./run-build-step.js";

/** Where node-llama-cpp and the packages its build uses are installed. */
export interface LlamaPackage {
  /** node-llama-cpp's package folder. */
  root: string;
  /** Its `llama` folder: CMakeLists.txt, addon/, cmake/, patches/, gitRelease.bundle. */
  llamaDir: string;
  /** cmake-js's CLI script. */
  cmakeJs: string;
  /** The node_modules folder that holds node-addon-api. */
  nodeModules: string;
}

/** Parts of node-llama-cpp's `llama` folder the build needs, besides llama.cpp itself. */
const ADDON_PARTS = ["CMakeLists.txt", "package.json", "addon", "cmake", "toolchains"];
const BUNDLE = "gitRelease.bundle";

export function findLlamaPackage(): LlamaPackage {
  const require = createRequire(import.meta.url);
  // node-llama-cpp's exports map has no ./package.json; its entry is <root>/dist/index.js.
  const root = path.resolve(path.dirname(require.resolve("node-llama-cpp")), "..");
  const fromLlama = createRequire(path.join(root, "package.json"));
  return {
    root,
    llamaDir: path.join(root, "llama"),
    cmakeJs: path.join(path.dirname(fromLlama.resolve("cmake-js/package.json")), "bin", "cmake-js"),
    nodeModules: path.resolve(path.dirname(fromLlama.resolve("node-addon-api/package.json")), ".."),
  };
}

const PackageVersion = z.object({ version: z.string() });
const BinariesRelease = z.object({ release: z.string() });

/** node-llama-cpp's version and the llama.cpp release it ships: read from its files, no tools needed. */
export async function llamaCppRelease(llama: LlamaPackage): Promise<Omit<LlamaCppSource, "commit">> {
  const nodeLlamaCpp = PackageVersion.parse(JSON.parse(await readFile(path.join(llama.root, "package.json"), "utf8"))).version;
  const release = BinariesRelease.parse(JSON.parse(await readFile(path.join(llama.llamaDir, "binariesGithubRelease.json"), "utf8"))).release;
  return { nodeLlamaCpp, release };
}

/** Which llama.cpp node-llama-cpp ships: its version, the release and the bundle's commit. */
export async function llamaCppSource(llama: LlamaPackage, git: string): Promise<LlamaCppSource> {
  const { nodeLlamaCpp, release } = await llamaCppRelease(llama);
  const bundle = path.join(llama.llamaDir, BUNDLE);
  const heads = await execa(git, ["bundle", "list-heads", bundle], { reject: false, stdin: "ignore" });
  const commit = /^([0-9a-f]{40})\s/m.exec(heads.stdout)?.[1];
  if (heads.failed || commit === undefined) {
    throw new RbeeError(500, "llama_source_missing", `node-llama-cpp ${nodeLlamaCpp} ships no readable llama.cpp source at ${bundle} (${heads.stderr || "no heads"}); reinstall node-llama-cpp`);
  }
  return { nodeLlamaCpp, release, commit };
}

/**
 * Assembles the source tree in `sourceDir` (which must not exist yet): the addon's files copied,
 * llama.cpp cloned from the bundle beside them, node-llama-cpp's patches applied.
 */
export async function prepareLlamaSource(llama: LlamaPackage, git: string, sourceDir: string, signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
  await mkdir(sourceDir, { recursive: true });
  for (const part of ADDON_PARTS) {
    await cp(path.join(llama.llamaDir, part), path.join(sourceDir, part), { recursive: true, errorOnExist: false }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT" || part === "CMakeLists.txt" || part === "addon") throw error;
    });
  }
  const llamaCpp = path.join(sourceDir, "llama.cpp");
  const env = { ...process.env, GIT_TERMINAL_PROMPT: "0" };
  await runBuildStep({ command: git, args: ["clone", "--quiet", path.join(llama.llamaDir, BUNDLE), llamaCpp], cwd: sourceDir, env }, signal, onLine);
  const patchesDir = path.join(llama.llamaDir, "patches");
  const patches = (await readdir(patchesDir).catch(() => [])).filter((name) => name.endsWith(".diff") || name.endsWith(".patch")).sort();
  for (const patch of patches) {
    const file = path.join(patchesDir, patch);
    // Not applying cleanly means the release already carries the change (node-llama-cpp skips those too).
    const check = await execa(git, ["apply", "--check", file], { cwd: llamaCpp, reject: false, stdin: "ignore", cancelSignal: signal });
    signal.throwIfAborted();
    if (check.failed) {
      onLine(`skipping patch ${patch}: the release already has it`);
      continue;
    }
    await runBuildStep({ command: git, args: ["apply", file], cwd: llamaCpp, env }, signal, onLine);
    onLine(`applied patch ${patch}`);
  }
}

/** A SHA-256 over what decides a build's binary: the source, the backend and platform, the toolchain. */
export function buildFingerprint(parts: Record<string, unknown>): string {
  const hash = createHash("sha256");
  for (const key of Object.keys(parts).sort()) hash.update(`${key}=${JSON.stringify(parts[key])}\n`);
  return hash.digest("hex");
}
