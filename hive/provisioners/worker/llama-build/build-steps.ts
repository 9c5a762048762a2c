// The commands a llama.cpp build for one backend runs: configure with cmake-js (node-llama-cpp's own
// build driver, which supplies the Node-API headers from the installed node-api-headers package, so
// nothing is downloaded) and compile with `cmake --build`. The CMake options are the ones
// node-llama-cpp's `source build` passes for a build on and for this machine (its
// bindings/utils/compileLLamaCpp.js), so the addon is the one node-llama-cpp would have built,
// only written into the worker catalog instead of node_modules. Pure: local-llama-build.ts runs
// the steps, and tests read them.
import path from "node:path";
import type { WorkerType } from "../../../catalog/worker/worker-artifact.js";
import type { BuildToolchain } from "./build-tools.js";

/** cmake-js puts the addon and, after `collectBuildOutput`, its libraries here, inside the build folder. */
export const BUILD_CONFIG = "Release";

export interface BuildStep {
  /** Shown in narration: `configure`, then `compile`. */
  phase: "configure" | "compile";
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface BuildPlan {
  backend: WorkerType;
  platform: NodeJS.Platform;
  arch: string;
  /** The assembled source tree: node-llama-cpp's CMakeLists.txt and addon, with llama.cpp beside them. */
  sourceDir: string;
  buildDir: string;
  toolchain: BuildToolchain;
  /** The llama.cpp release node-llama-cpp ships (its llama/binariesGithubRelease.json), which names the libraries. */
  release: string;
  /** cmake-js's CLI script. */
  cmakeJs: string;
  /** The node_modules folder holding node-addon-api, which the CMakeLists finds with `node -p "require('node-addon-api')"`. */
  nodeModules: string;
  /** The Node that runs cmake-js, and that the CMakeLists runs as `node`. */
  nodePath: string;
  /** Compile jobs at once. */
  parallel: number;
  env: NodeJS.ProcessEnv;
}

/** node-llama-cpp's names for platforms, which its CMakeLists compares against (`win-x64`). */
function nlcPlatform(platform: NodeJS.Platform): string {
  return platform === "darwin" ? "mac" : platform === "win32" ? "win" : platform;
}

/** The CMake cache entries for a `backend` build on this machine, as `NAME=value`. */
export function cmakeOptions(plan: Pick<BuildPlan, "backend" | "platform" | "arch" | "release">): Map<string, string> {
  const target = `${nlcPlatform(plan.platform)}-${plan.arch}`;
  const gpu = plan.backend === "cpu" ? [] : [plan.backend];
  const options = new Map<string, string>([
    ["GGML_BUILD_NUMBER", "1"],
    ["CMAKE_CONFIGURATION_TYPES", BUILD_CONFIG],
    ["NLC_CURRENT_PLATFORM", target],
    ["NLC_TARGET_PLATFORM", target],
    // Suffixes the libraries' names like node-llama-cpp's builds (libggml.cuda.<release>.so).
    ["NLC_VARIANT", [...gpu, plan.release].join(".")],
    ["GGML_METAL", plan.backend === "metal" ? "1" : "OFF"],
    ["GGML_CCACHE", "OFF"],
    // Neither downloads nor an HTTP server: the addon needs neither, and they would pull in libcurl and OpenSSL.
    ["LLAMA_CURL", "OFF"],
    ["LLAMA_HTTPLIB", "OFF"],
    ["LLAMA_BUILD_BORINGSSL", "OFF"],
    ["LLAMA_OPENSSL", "OFF"],
    // For this machine's own CPU (and, with CUDA, its own GPU's architecture): the point of building here.
    ["GGML_NATIVE", "ON"],
  ]);
  if (plan.backend === "cuda") options.set("GGML_CUDA", "1");
  if (plan.backend === "vulkan") options.set("GGML_VULKAN", "1");
  return options;
}

export function llamaBuildSteps(plan: BuildPlan): BuildStep[] {
  const { toolchain } = plan;
  // CMakeLists.txt runs `node` by name; the hive's own Node goes first on PATH so it is that one.
  const pathKey = Object.keys(plan.env).find((key) => key.toUpperCase() === "PATH") ?? "PATH";
  const env: NodeJS.ProcessEnv = {
    ...plan.env,
    [pathKey]: [path.dirname(plan.nodePath), plan.env[pathKey]].filter(Boolean).join(path.delimiter),
    NODE_PATH: plan.nodeModules,
    CXX: toolchain.compiler.path,
    ...(toolchain.nvcc ? { CUDACXX: toolchain.nvcc.path } : {}),
  };
  const generator = toolchain.generator ? ["--generator", toolchain.generator.name === "ninja" ? "Ninja" : "Unix Makefiles"] : [];
  const configure: BuildStep = {
    phase: "configure",
    command: plan.nodePath,
    args: [
      plan.cmakeJs,
      "configure",
      "--log-level",
      "warn",
      "--directory",
      plan.sourceDir,
      "--out",
      plan.buildDir,
      "--config",
      BUILD_CONFIG,
      "--arch",
      plan.arch,
      "--runtime-version",
      process.versions.node,
      "--cmake-path",
      toolchain.cmake.path,
      ...generator,
      ...[...cmakeOptions(plan)].map(([name, value]) => `--CD${name}=${value}`),
    ],
    cwd: plan.sourceDir,
    env,
  };
  const compile: BuildStep = {
    phase: "compile",
    command: toolchain.cmake.path,
    args: ["--build", plan.buildDir, "--config", BUILD_CONFIG, "--parallel", String(plan.parallel)],
    cwd: plan.buildDir,
    env,
  };
  return [configure, compile];
}

/** Compile jobs for a machine with `cores`: node-llama-cpp's rule, leaving two cores free on big machines. */
export function buildParallelism(cores: number): number {
  return cores <= 4 ? Math.max(1, cores) : cores - 2;
}
