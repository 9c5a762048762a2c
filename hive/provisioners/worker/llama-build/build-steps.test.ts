// The commands the hive runs to compile llama.cpp for each backend: read, not run (the real build
// is test/drills/local-build.slow.test.ts).
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { WorkerType } from "../../../catalog/worker/worker-artifact.js";
import { buildParallelism, llamaBuildSteps, type BuildPlan } from "./build-steps.js";
import type { BuildToolchain } from "./build-tools.js";

const TOOLCHAIN: BuildToolchain = {
  cmake: { path: "/opt/cmake/bin/cmake", version: "3.28.1" },
  compiler: { path: "/usr/bin/g++", version: "12.2.0" },
  generator: { path: "/usr/bin/ninja", version: "1.11.1", name: "ninja" },
  git: { path: "/usr/bin/git", version: "2.39.5" },
  nvcc: { path: "/usr/local/cuda/bin/nvcc", version: "13.0.88" },
};

function plan(backend: WorkerType, overrides: Partial<BuildPlan> = {}): BuildPlan {
  return {
    backend,
    platform: "linux",
    arch: "x64",
    sourceDir: "/cache/workers/w/llama.tmp/src",
    buildDir: "/cache/workers/w/llama.tmp/build",
    toolchain: TOOLCHAIN,
    release: "b6500",
    cmakeJs: "/app/node_modules/cmake-js/bin/cmake-js",
    nodeModules: "/app/node_modules",
    nodePath: "/opt/node/bin/node",
    parallel: 6,
    env: { PATH: "/usr/bin", HOME: "/home/r" },
    ...overrides,
  };
}

/** The `-D` cache entries of the configure step, as NAME → value. */
function cacheEntries(backend: WorkerType, overrides: Partial<BuildPlan> = {}): Record<string, string> {
  const [configure] = llamaBuildSteps(plan(backend, overrides));
  return Object.fromEntries((configure?.args ?? []).filter((arg) => arg.startsWith("--CD")).map((arg) => arg.slice(4).split("=") as [string, string]));
}

describe("llama.cpp build steps", () => {
  it("configures with cmake-js from the assembled source into the build folder, then compiles with cmake --build", () => {
    const [configure, compile, ...rest] = llamaBuildSteps(plan("cpu"));
    expect(rest).toEqual([]);
    expect(configure).toMatchObject({ phase: "configure", command: "/opt/node/bin/node", cwd: "/cache/workers/w/llama.tmp/src" });
    expect(configure?.args.slice(0, 2)).toEqual(["/app/node_modules/cmake-js/bin/cmake-js", "configure"]);
    expect(configure?.args.join(" ")).toContain("--directory /cache/workers/w/llama.tmp/src --out /cache/workers/w/llama.tmp/build --config Release --arch x64");
    expect(configure?.args.join(" ")).toContain("--cmake-path /opt/cmake/bin/cmake --generator Ninja");
    expect(compile).toMatchObject({
      phase: "compile",
      command: "/opt/cmake/bin/cmake",
      args: ["--build", "/cache/workers/w/llama.tmp/build", "--config", "Release", "--parallel", "6"],
    });
  });

  it("builds the cpu backend for this machine's own CPU, without GPU backends, downloads or a server", () => {
    expect(cacheEntries("cpu")).toEqual({
      GGML_BUILD_NUMBER: "1",
      CMAKE_CONFIGURATION_TYPES: "Release",
      NLC_CURRENT_PLATFORM: "linux-x64",
      NLC_TARGET_PLATFORM: "linux-x64",
      NLC_VARIANT: "b6500",
      GGML_METAL: "OFF",
      GGML_CCACHE: "OFF",
      LLAMA_CURL: "OFF",
      LLAMA_HTTPLIB: "OFF",
      LLAMA_BUILD_BORINGSSL: "OFF",
      LLAMA_OPENSSL: "OFF",
      GGML_NATIVE: "ON",
    });
  });

  it("turns on exactly the asked backend, and names the libraries after it", () => {
    expect(cacheEntries("cuda")).toMatchObject({ GGML_CUDA: "1", GGML_METAL: "OFF", NLC_VARIANT: "cuda.b6500" });
    expect(cacheEntries("cuda")).not.toHaveProperty("GGML_VULKAN");
    expect(cacheEntries("vulkan")).toMatchObject({ GGML_VULKAN: "1", GGML_METAL: "OFF", NLC_VARIANT: "vulkan.b6500" });
    expect(cacheEntries("vulkan")).not.toHaveProperty("GGML_CUDA");
    expect(cacheEntries("metal", { platform: "darwin", arch: "arm64" })).toMatchObject({ GGML_METAL: "1", NLC_CURRENT_PLATFORM: "mac-arm64", NLC_VARIANT: "metal.b6500" });
  });

  it("hands the build the found compiler and nvcc, node-addon-api's folder, and its own Node first on PATH", () => {
    const [configure, compile] = llamaBuildSteps(plan("cuda"));
    for (const step of [configure, compile]) {
      expect(step?.env).toMatchObject({ CXX: "/usr/bin/g++", CUDACXX: "/usr/local/cuda/bin/nvcc", NODE_PATH: "/app/node_modules", HOME: "/home/r" });
      expect(step?.env.PATH).toBe(["/opt/node/bin", "/usr/bin"].join(path.delimiter));
    }
    const [cpuConfigure] = llamaBuildSteps(plan("cpu", { toolchain: { ...TOOLCHAIN, nvcc: undefined } }));
    expect(cpuConfigure?.env).not.toHaveProperty("CUDACXX");
  });

  it("uses make where there is no ninja, and the platform's own generator on Windows", () => {
    const make = llamaBuildSteps(plan("cpu", { toolchain: { ...TOOLCHAIN, generator: { path: "/usr/bin/make", version: "4.3", name: "make" } } }))[0];
    expect(make?.args.join(" ")).toContain("--generator Unix Makefiles");
    const windows = llamaBuildSteps(plan("cpu", { platform: "win32", toolchain: { ...TOOLCHAIN, generator: undefined }, env: { Path: "C:\\Windows" } }))[0];
    expect(windows?.args).not.toContain("--generator");
    expect(windows?.env.Path).toContain("C:\\Windows");
    expect(cacheEntries("cpu", { platform: "win32" })).toMatchObject({ NLC_CURRENT_PLATFORM: "win-x64" });
  });

  it("leaves two cores free on machines with more than four", () => {
    expect([1, 2, 4, 6, 16].map(buildParallelism)).toEqual([1, 2, 4, 4, 14]);
  });
});
