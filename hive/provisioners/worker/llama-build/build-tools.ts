// Checks, before anything is compiled, that this machine has what a llama.cpp build for one backend
// needs (CMake, a C++ compiler, a build program, git for the source, and the backend's toolkit), and
// finds their versions for the catalog entry. What is missing is reported in one RbeeError that
// names each tool and how to get it, so a user never has to read a CMake or compiler dump to learn
// that nvcc is not installed. Used by local-llama-build.ts; tests point `env` and `systemDirs` at
// folders of their own.
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { RbeeError } from "../../../../shared/errors.js";
import type { LlamaToolchain } from "../../../catalog/worker/llama-build-details.js";
import type { WorkerType } from "../../../catalog/worker/worker-artifact.js";

/** How long a tool may take to print its version, ms (a cold nvcc on a busy disk takes a second or two). */
const VERSION_TIMEOUT_MS = 20_000;

export interface ToolLookup {
  /** The environment whose PATH (and CXX, CUDACXX, CUDA_PATH, VULKAN_SDK) decides which tools are found. */
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Folders searched besides the environment's; default SYSTEM_DIRS. */
  systemDirs?: SystemDirs;
}

/** Where toolkits install themselves when they are not on PATH. */
export interface SystemDirs {
  /** Folders holding a CUDA toolkit's `nvcc`. */
  cudaBin: string[];
  /** Folders holding `vulkan/vulkan.h`. */
  include: string[];
  /** Folders holding the Vulkan loader (`libvulkan.so`, `libvulkan.dylib`). */
  lib: string[];
}

export const SYSTEM_DIRS: SystemDirs = {
  cudaBin: ["/usr/local/cuda/bin", "/opt/cuda/bin"],
  include: ["/usr/include", "/usr/local/include", "/opt/homebrew/include"],
  lib: ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", "/opt/homebrew/lib"],
};

export interface FoundTool {
  path: string;
  version: string;
}

/** The tools a build will run, found and answering. */
export interface BuildToolchain {
  cmake: FoundTool;
  compiler: FoundTool;
  /** `ninja` or `make`; undefined on Windows, where CMake drives Visual Studio's own build. */
  generator: (FoundTool & { name: "ninja" | "make" }) | undefined;
  git: FoundTool;
  nvcc?: FoundTool;
  glslc?: FoundTool;
}

/** The toolchain for a `backend` build, or a `build_tools_missing` error naming every missing tool. */
export async function checkBuildTools(backend: WorkerType, lookup: ToolLookup): Promise<BuildToolchain> {
  const { platform } = lookup;
  if (backend === "metal" && platform !== "darwin") {
    throw new RbeeError(400, "backend_unsupported_here", `metal workers run on macOS only (Apple GPUs), and this machine runs ${platform}; build a cuda, vulkan or cpu worker here instead`);
  }
  const missing: string[] = [];
  const need = async (found: Promise<FoundTool | undefined>, why: string) => {
    const tool = await found;
    if (!tool) missing.push(why);
    return tool;
  };
  const cmake = await need(findTool(["cmake"], lookup), `cmake (${howToGet("cmake", platform)})`);
  const compiler = await need(findTool(compilerNames(lookup), lookup), `a C++ compiler (${howToGet("compiler", platform)})`);
  let generator: BuildToolchain["generator"];
  if (platform !== "win32") {
    const ninja = await findTool(["ninja"], lookup);
    const make = ninja ? undefined : await need(findTool(["make", "gmake"], lookup), `make or ninja (${howToGet("make", platform)})`);
    generator = ninja ? { ...ninja, name: "ninja" } : make ? { ...make, name: "make" } : undefined;
  }
  const git = await need(findTool(["git"], lookup), `git, which unpacks the llama.cpp source node-llama-cpp ships (${howToGet("git", platform)})`);
  const toolchain: Partial<BuildToolchain> = { cmake, compiler, generator, git };
  if (backend === "cuda") {
    const places = ["PATH", "CUDACXX", "CUDA_PATH", "CUDA_HOME", ...dirs(lookup).cudaBin].join(", ");
    toolchain.nvcc = await need(findNvcc(lookup), `nvcc, the CUDA toolkit's compiler: looked in ${places} (${howToGet("cuda", platform)}; the GPU driver alone is not enough)`);
  }
  if (backend === "vulkan") {
    const sdk = lookup.env.VULKAN_SDK;
    const sdkBin = sdk ? [path.join(sdk, "bin")] : [];
    toolchain.glslc = await need(findTool(["glslc"], lookup, sdkBin), `glslc, the Vulkan SDK's shader compiler (${howToGet("vulkan", platform)})`);
    const include = [...(sdk ? [path.join(sdk, "include")] : []), ...dirs(lookup).include];
    if (!(await firstExisting(include.map((folder) => path.join(folder, "vulkan", "vulkan.h"))))) {
      missing.push(`the Vulkan headers (vulkan/vulkan.h; looked in ${include.join(", ")}) (${howToGet("vulkan", platform)})`);
    }
    const lib = [...(sdk ? [path.join(sdk, "lib")] : []), ...dirs(lookup).lib];
    const loaders = platform === "win32" ? ["vulkan-1.lib"] : platform === "darwin" ? ["libvulkan.dylib"] : ["libvulkan.so"];
    if (!(await firstExisting(lib.flatMap((folder) => loaders.map((name) => path.join(folder, name)))))) {
      missing.push(`the Vulkan loader (${loaders.join(", ")}; looked in ${lib.join(", ")}) (${howToGet("vulkan", platform)})`);
    }
  }
  if (missing.length > 0 || !cmake || !compiler || !git) {
    throw new RbeeError(400, "build_tools_missing", `cannot compile llama.cpp for ${backend} on this machine; missing: ${missing.join("; ")}`);
  }
  return { ...toolchain, cmake, compiler, generator, git };
}

/** The toolchain as the catalog records it. */
export function toolchainRecord(toolchain: BuildToolchain): LlamaToolchain {
  return {
    compiler: toolchain.compiler.path,
    compilerVersion: toolchain.compiler.version,
    cmakeVersion: toolchain.cmake.version,
    generator: toolchain.generator?.name ?? "msbuild",
    ...(toolchain.nvcc ? { cudaVersion: toolchain.nvcc.version } : {}),
    ...(toolchain.glslc ? { glslcVersion: toolchain.glslc.version } : {}),
  };
}

function dirs(lookup: ToolLookup): SystemDirs {
  return lookup.systemDirs ?? SYSTEM_DIRS;
}

/** `CXX` when set (its first word: it may carry flags), else the platform's usual compilers. */
function compilerNames(lookup: ToolLookup): string[] {
  const cxx = lookup.env.CXX?.trim().split(/\s+/)[0];
  if (cxx) return [cxx];
  if (lookup.platform === "win32") return ["cl", "clang-cl"];
  if (lookup.platform === "darwin") return ["clang++", "c++"];
  return ["c++", "g++", "clang++"];
}

async function findNvcc(lookup: ToolLookup): Promise<FoundTool | undefined> {
  const { env } = lookup;
  if (env.CUDACXX) return findTool([env.CUDACXX], lookup);
  const homes = [env.CUDA_PATH, env.CUDA_HOME].filter((home): home is string => Boolean(home)).map((home) => path.join(home, "bin"));
  return findTool(["nvcc"], lookup, [...homes, ...dirs(lookup).cudaBin]);
}

/** The first of `names` found on PATH (then in `extraDirs`) that answers `--version`. */
async function findTool(names: string[], lookup: ToolLookup, extraDirs: string[] = []): Promise<FoundTool | undefined> {
  for (const name of names) {
    const file = await findExecutable(name, lookup, extraDirs);
    if (!file) continue;
    const version = await toolVersion(file, lookup.env);
    if (version !== undefined) return { path: file, version };
  }
  return undefined;
}

async function findExecutable(name: string, lookup: ToolLookup, extraDirs: string[]): Promise<string | undefined> {
  const isWindows = lookup.platform === "win32";
  const extensions = isWindows ? ["", ...(lookup.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";")] : [""];
  const candidates = path.isAbsolute(name)
    ? [name]
    : [...(lookup.env.PATH ?? lookup.env.Path ?? "").split(path.delimiter).filter(Boolean), ...extraDirs].map((folder) => path.join(folder, name));
  return firstExisting(candidates.flatMap((candidate) => extensions.map((extension) => candidate + extension)), constants.X_OK);
}

async function firstExisting(files: string[], mode: number = constants.R_OK): Promise<string | undefined> {
  for (const file of files) {
    if (await access(file, mode).then(() => true, () => false)) return file;
  }
  return undefined;
}

/** The version a tool prints (`cmake version 3.25.1`, nvcc's `V13.0.88`), or undefined when it does not run. */
async function toolVersion(file: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  // MSVC's cl prints its banner (with the version) on stderr when run without arguments.
  const args = path.basename(file).toLowerCase().startsWith("cl") && !file.toLowerCase().includes("clang") ? [] : ["--version"];
  const result = await execa(file, args, { env, extendEnv: false, reject: false, timeout: VERSION_TIMEOUT_MS, stdin: "ignore", maxBuffer: 256 * 1024 });
  if (result.failed && args.length > 0) return undefined;
  const output = `${result.stdout}\n${result.stderr}`;
  const version = /\bV(\d+\.\d+\.\d+)\b/.exec(output)?.[1] ?? /\d+\.\d+(?:\.\d+)?/.exec(output)?.[0];
  return version ?? "unknown";
}

type Need = "cmake" | "compiler" | "make" | "git" | "cuda" | "vulkan";

/** One line on how to install what is missing, for the platform at hand. */
function howToGet(need: Need, platform: NodeJS.Platform): string {
  const linux: Record<Need, string> = {
    cmake: "e.g. `sudo apt install cmake`, or https://cmake.org/download/",
    compiler: "e.g. `sudo apt install build-essential`",
    make: "e.g. `sudo apt install build-essential` or `sudo apt install ninja-build`",
    git: "e.g. `sudo apt install git`",
    cuda: "install the CUDA toolkit from https://developer.nvidia.com/cuda-downloads (or `sudo apt install nvidia-cuda-toolkit`) and put its bin folder on PATH or set CUDA_PATH",
    vulkan: "install the Vulkan SDK from https://vulkan.lunarg.com/sdk/home and set VULKAN_SDK, or e.g. `sudo apt install libvulkan-dev glslc`",
  };
  const macos: Record<Need, string> = {
    cmake: "e.g. `brew install cmake`",
    compiler: "install Xcode's command line tools: `xcode-select --install`",
    make: "install Xcode's command line tools: `xcode-select --install`",
    git: "install Xcode's command line tools: `xcode-select --install`",
    cuda: "CUDA does not run on macOS; build metal here",
    vulkan: "install the Vulkan SDK (MoltenVK) from https://vulkan.lunarg.com/sdk/home and set VULKAN_SDK",
  };
  const windows: Record<Need, string> = {
    cmake: "e.g. `winget install Kitware.CMake`",
    compiler: "install Visual Studio Build Tools with 'Desktop development with C++' and run the hive from a Developer PowerShell",
    make: "Visual Studio Build Tools bring their own",
    git: "e.g. `winget install Git.Git`",
    cuda: "install the CUDA toolkit from https://developer.nvidia.com/cuda-downloads, which sets CUDA_PATH",
    vulkan: "install the Vulkan SDK from https://vulkan.lunarg.com/sdk/home, which sets VULKAN_SDK",
  };
  return (platform === "darwin" ? macos : platform === "win32" ? windows : linux)[need];
}
