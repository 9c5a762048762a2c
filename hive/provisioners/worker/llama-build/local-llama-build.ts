// Gets a local worker the llama.cpp binary it will load, for the local-build vendor: the build this
// entry already holds when it still loads, else node-llama-cpp's prebuilt binary when it loads and
// passes node-llama-cpp's own check here (no build needed), else llama.cpp compiled for the backend
// from the source node-llama-cpp ships, into `<entry folder>/llama`. `rebuild` skips straight to
// compiling. The compile runs in `<entry folder>/llama.tmp` (a name the catalog treats as scratch),
// and only a build that compiled and then loaded in a child process is moved into place, so a
// failed or cancelled build leaves nothing behind.
import { availableParallelism } from "node:os";
import { mkdir, readdir, readFile, rename, rm, writeFile, cp } from "node:fs/promises";
import path from "node:path";
import { RbeeError } from "../../../../shared/errors.js";
import { LLAMA_BUILD_METADATA_FILE, type LlamaBuildMetadata } from "../../../../shared/llama/load-llama-build.js";
import { LlamaBuildDetails } from "../../../catalog/worker/llama-build-details.js";
import type { WorkerType } from "../../../catalog/worker/worker-artifact.js";
import type { VendorContext } from "../../../catalog/vendor-source.js";
import { BuildOutput } from "./build-output.js";
import { BUILD_CONFIG, buildParallelism, cmakeOptions, llamaBuildSteps } from "./build-steps.js";
import { checkBuildTools, toolchainRecord, type ToolLookup } from "./build-tools.js";
import { buildFingerprint, findLlamaPackage, llamaCppRelease, llamaCppSource, prepareLlamaSource } from "./llama-source.js";
import { probeLlama } from "./llama-probe.js";
import { BuildStepFailed, runBuildStep } from "./run-build-step.js";

/** The build's folder inside the worker entry's folder. */
export const LLAMA_BUILD_FOLDER = "llama";
/** Scratch space of a build in progress; the catalog ignores `.tmp` names when it looks for partial files. */
const WORK_FOLDER = "llama.tmp";
/** The record of the build, beside its binary: how a later install finds it again. */
const RECORD_FILE = "rbee-llama-build.json";

export interface LlamaBuildRequest {
  backend: WorkerType;
  /** The worker entry's folder. */
  folder: string;
  /** Compile even when a prebuilt binary or an earlier build would do. */
  rebuild: boolean;
}

/** Where tools are looked up; tests hand in their own PATH. */
export type LlamaBuildEnvironment = ToolLookup;

export async function provideLlamaBuild(request: LlamaBuildRequest, context: VendorContext, environment: LlamaBuildEnvironment): Promise<LlamaBuildDetails> {
  const { backend, folder } = request;
  const llama = findLlamaPackage();
  if (!request.rebuild) {
    const current = await llamaCppRelease(llama);
    const earlier = await readRecord(folder);
    // Only a build of the llama.cpp this node-llama-cpp ships: its JavaScript and the addon go together.
    if (earlier?.backend === backend && earlier.llamaCpp.nodeLlamaCpp === current.nodeLlamaCpp && earlier.llamaCpp.release === current.release) {
      const check = await probeLlama(backend, path.join(folder, earlier.folder), context.signal);
      if (check.works) {
        context.narrate("cached", `keeping the llama.cpp ${backend} build compiled here on ${earlier.builtAt} (${earlier.llamaCpp.release}); ask with rebuild to compile again`);
        return earlier;
      }
      context.narrate("prebuilt", `the llama.cpp build compiled here earlier no longer loads (${check.reason}); looking again`);
    }
    context.narrate("prebuilt", `checking whether node-llama-cpp's prebuilt ${backend} binary loads on this machine`);
    const prebuilt = await probeLlama(backend, undefined, context.signal);
    if (prebuilt.works) {
      // A prebuilt CPU binary is built for a family of CPUs; one compiled here ran the tiny test
      // model ~1.4x faster on the development machine (bench/README.md, "Against llama.cpp's own server").
      const faster = backend === "cpu" ? " (ask with rebuild to compile one for this very CPU, which may generate faster)" : "";
      context.narrate("prebuilt", `node-llama-cpp's ${prebuilt.buildType} ${backend} binary loads and passes its check here; no build needed${faster}`);
      await rm(path.join(folder, LLAMA_BUILD_FOLDER), { recursive: true, force: true });
      return { kind: "prebuilt", backend, nodeLlamaCpp: current.nodeLlamaCpp };
    }
    context.narrate("prebuilt", `no prebuilt ${backend} binary works here (${prebuilt.reason}); compiling llama.cpp for ${backend}`);
  } else {
    context.narrate("rebuild", `compiling llama.cpp for ${backend}, as asked, whatever binary would already load`);
  }
  return compile(request, context, environment);
}

async function compile(request: LlamaBuildRequest, context: VendorContext, environment: LlamaBuildEnvironment): Promise<LlamaBuildDetails> {
  const { backend, folder } = request;
  const { signal } = context;
  const toolchain = await checkBuildTools(backend, environment);
  const llama = findLlamaPackage();
  const source = await llamaCppSource(llama, toolchain.git.path);
  const record = toolchainRecord(toolchain);
  const fingerprint = buildFingerprint({ source, backend, platform: environment.platform, arch: process.arch, node: process.versions.modules, toolchain: record, options: [...cmakeOptions({ backend, platform: environment.platform, arch: process.arch, release: source.release })] });
  context.narrate(
    "toolchain",
    `llama.cpp ${source.release} (${source.commit.slice(0, 12)}) from node-llama-cpp ${source.nodeLlamaCpp}; ${path.basename(record.compiler)} ${record.compilerVersion}, cmake ${record.cmakeVersion}, ${record.generator}${record.cudaVersion ? `, CUDA ${record.cudaVersion}` : ""}${record.glslcVersion ? `, glslc ${record.glslcVersion}` : ""}`,
  );
  const started = performance.now();
  const work = path.join(folder, WORK_FOLDER);
  await rm(work, { recursive: true, force: true });
  const output = new BuildOutput(context.narrate);
  try {
    const sourceDir = path.join(work, "src");
    const buildDir = path.join(work, "build");
    context.narrate("source", `unpacking llama.cpp's source from node-llama-cpp into ${sourceDir}`);
    await runStep("source", () => prepareLlamaSource(llama, toolchain.git.path, sourceDir, signal, (line) => output.line("source", line)), output);
    const parallel = buildParallelism(availableParallelism());
    const steps = llamaBuildSteps({ backend, platform: environment.platform, arch: process.arch, sourceDir, buildDir, toolchain, release: source.release, cmakeJs: llama.cmakeJs, nodeModules: llama.nodeModules, nodePath: process.execPath, parallel, env: environment.env });
    for (const step of steps) {
      context.narrate(step.phase, step.phase === "configure" ? `configuring the ${backend} build with CMake` : `compiling with ${parallel} job(s) at low priority; this takes minutes`);
      await runStep(step.phase, () => runBuildStep(step, signal, (line) => output.line(step.phase, line)), output);
    }
    const built = await collectBuildOutput(buildDir);
    const metadata: LlamaBuildMetadata = {
      buildOptions: {
        customCmakeOptions: {},
        platform: process.platform === "darwin" ? "mac" : process.platform === "win32" ? "win" : process.platform,
        arch: process.arch,
        gpu: backend === "cpu" ? false : backend,
        llamaCpp: { repo: "ggml-org/llama.cpp", release: source.release },
      },
    };
    await writeFile(path.join(built, LLAMA_BUILD_METADATA_FILE), JSON.stringify(metadata));
    context.narrate("check", "checking that the new build loads, in a separate process");
    const check = await probeLlama(backend, built, signal);
    if (!check.works) {
      throw new RbeeError(500, "llama_build_unusable", `llama.cpp compiled for ${backend}, but the build does not load on this machine: ${check.reason}`);
    }
    const details: LlamaBuildDetails = {
      kind: "compiled",
      backend,
      folder: LLAMA_BUILD_FOLDER,
      llamaCpp: source,
      toolchain: record,
      fingerprint,
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
    await writeFile(path.join(built, RECORD_FILE), JSON.stringify(details, null, 2));
    const target = path.join(folder, LLAMA_BUILD_FOLDER);
    await rm(target, { recursive: true, force: true });
    await rename(built, target);
    context.narrate("built", `compiled llama.cpp for ${backend} in ${details.buildSeconds} s (fingerprint ${fingerprint.slice(0, 12)})`);
    return details;
  } finally {
    // Sources and objects are hundreds of MB; only the binary folder is kept.
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs a phase; a failure becomes an RbeeError naming the phase, with the output's last lines. */
async function runStep(phase: string, run: () => Promise<void>, output: BuildOutput): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof BuildStepFailed)) throw error;
    const tail = output.tail().map((line) => `  ${line}`).join("\n");
    throw new RbeeError(500, "llama_build_failed", `the llama.cpp build failed at ${phase}: ${error.message}; its last lines of output:\n${tail || "  (none)"}`, { cause: error });
  }
}

/**
 * The folder holding the addon and every library it loads. cmake-js writes the addon to
 * `<build>/Release`; llama.cpp's shared libraries land in `bin/` folders, which node-llama-cpp
 * also copies beside the addon (the addon finds them through its `$ORIGIN` run path).
 */
async function collectBuildOutput(buildDir: string): Promise<string> {
  const result = path.join(buildDir, BUILD_CONFIG);
  await mkdir(result, { recursive: true });
  for (const bin of [path.join(buildDir, "bin"), path.join(buildDir, "llama.cpp", "bin")]) {
    const names = await readdir(bin).catch(() => []);
    for (const name of names) await cp(path.join(bin, name), path.join(result, name), { recursive: true, force: false, errorOnExist: false });
  }
  // Multi-config generators (Visual Studio, Xcode) nest one more Release folder.
  const nested = path.join(result, BUILD_CONFIG);
  for (const name of await readdir(nested).catch(() => [])) await rename(path.join(nested, name), path.join(result, name));
  await rm(nested, { recursive: true, force: true });
  await rm(path.join(result, process.platform === "win32" ? "vulkan-shaders-gen.exe" : "vulkan-shaders-gen"), { force: true });
  return result;
}

async function readRecord(folder: string): Promise<Extract<LlamaBuildDetails, { kind: "compiled" }> | undefined> {
  const text = await readFile(path.join(folder, LLAMA_BUILD_FOLDER, RECORD_FILE), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined; // a record cut short: build again
  }
  const parsed = LlamaBuildDetails.safeParse(json);
  return parsed.success && parsed.data.kind === "compiled" ? parsed.data : undefined;
}
