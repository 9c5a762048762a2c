// The tool check before a build, on folders of stand-in tools (small shell scripts that print a
// version like the real ones): what is found, and the message that names what is missing.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBuildTools, type SystemDirs, type ToolLookup } from "./build-tools.js";

const NO_SYSTEM_DIRS: SystemDirs = { cudaBin: [], include: [], lib: [] };
const VERSIONS: Record<string, string> = {
  cmake: "cmake version 3.28.1\n\nCMake suite maintained and supported by Kitware (kitware.com/cmake).",
  "c++": "c++ (Debian 12.2.0-14) 12.2.0\nCopyright (C) 2022 Free Software Foundation, Inc.",
  "clang++": "Debian clang version 16.0.6 (15)\nTarget: x86_64-pc-linux-gnu",
  make: "GNU Make 4.3\nBuilt for x86_64-pc-linux-gnu",
  ninja: "1.11.1",
  git: "git version 2.39.5",
  nvcc: "nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2025 NVIDIA Corporation\nCuda compilation tools, release 13.0, V13.0.88",
  glslc: "shaderc v2023.8 v2023.8\nspirv-tools v2023.2 v2022.4-296-ge553b884\nglslang 11.1.0-763-g76b52ebf",
};

let root: string;
/** A folder of stand-in tools: `basics` has cmake, c++, make and git. */
let basics: string;

async function toolFolder(name: string, tools: string[]): Promise<string> {
  const folder = path.join(root, name);
  await mkdir(folder, { recursive: true });
  for (const tool of tools) {
    const file = path.join(folder, tool);
    // printf is a shell builtin: the stand-in runs with a PATH that has no coreutils.
    const lines = (VERSIONS[tool] ?? "1.0.0").split("\n").map((line) => `'${line}'`);
    await writeFile(file, `#!/bin/sh\nprintf '%s\\n' ${lines.join(" ")}\n`);
    await chmod(file, 0o755);
  }
  return folder;
}

function lookup(folders: string[], env: NodeJS.ProcessEnv = {}, platform: NodeJS.Platform = "linux"): ToolLookup {
  return { env: { PATH: folders.join(path.delimiter), ...env }, platform, systemDirs: NO_SYSTEM_DIRS };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "rbee-build-tools-"));
  basics = await toolFolder("basics", ["cmake", "c++", "make", "git"]);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(process.platform === "win32")("build tool check", () => {
  it("finds cmake, a C++ compiler, make and git with their versions for a cpu build", async () => {
    const toolchain = await checkBuildTools("cpu", lookup([basics]));
    expect(toolchain).toMatchObject({
      cmake: { path: path.join(basics, "cmake"), version: "3.28.1" },
      compiler: { path: path.join(basics, "c++"), version: "12.2.0" },
      generator: { name: "make", version: "4.3" },
      git: { version: "2.39.5" },
    });
    expect(toolchain.nvcc).toBeUndefined();
  });

  it("prefers ninja to make, and the compiler CXX names", async () => {
    const extra = await toolFolder("extra", ["ninja", "clang++"]);
    const toolchain = await checkBuildTools("cpu", lookup([basics, extra], { CXX: `${path.join(extra, "clang++")} -stdlib=libc++` }));
    expect(toolchain.generator).toMatchObject({ name: "ninja", version: "1.11.1" });
    expect(toolchain.compiler).toEqual({ path: path.join(extra, "clang++"), version: "16.0.6" });
  });

  it("names every missing tool and how to get it, in one message, on a machine with none", async () => {
    const error = await checkBuildTools("cpu", lookup([])).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "RbeeError", code: "build_tools_missing" });
    const message = (error as Error).message;
    expect(message).toMatch(/^cannot compile llama\.cpp for cpu on this machine; missing: cmake \(e\.g\. `sudo apt install cmake`/);
    expect(message).toContain("a C++ compiler (e.g. `sudo apt install build-essential`)");
    expect(message).toContain("make or ninja");
    expect(message).toContain("git, which unpacks the llama.cpp source");
  });

  it("asks for the CUDA toolkit's nvcc for a cuda build, not for the tools that are there", async () => {
    const error = await checkBuildTools("cuda", lookup([basics])).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "build_tools_missing" });
    const message = (error as Error).message;
    expect(message).toMatch(/missing: nvcc, the CUDA toolkit's compiler: looked in PATH, CUDACXX, CUDA_PATH, CUDA_HOME \(/);
    expect(message).toContain("https://developer.nvidia.com/cuda-downloads");
    expect(message).toContain("the GPU driver alone is not enough");
    expect(message).not.toContain("cmake (");
  });

  it("finds nvcc in CUDA_PATH, and records its version", async () => {
    const cudaHome = path.join(root, "cuda-13.0");
    await toolFolder(path.join("cuda-13.0", "bin"), ["nvcc"]);
    const toolchain = await checkBuildTools("cuda", lookup([basics], { CUDA_PATH: cudaHome }));
    expect(toolchain.nvcc).toEqual({ path: path.join(cudaHome, "bin", "nvcc"), version: "13.0.88" });
  });

  it("asks for the Vulkan SDK's glslc, headers and loader for a vulkan build", async () => {
    const error = await checkBuildTools("vulkan", lookup([basics])).catch((caught: unknown) => caught);
    const message = (error as Error).message;
    expect(message).toContain("glslc, the Vulkan SDK's shader compiler (install the Vulkan SDK from https://vulkan.lunarg.com/sdk/home and set VULKAN_SDK");
    expect(message).toContain("the Vulkan headers (vulkan/vulkan.h");
    expect(message).toContain("the Vulkan loader (libvulkan.so");
  });

  it("finds glslc, headers and loader in VULKAN_SDK", async () => {
    const sdk = path.join(root, "vulkan-sdk");
    await toolFolder(path.join("vulkan-sdk", "bin"), ["glslc"]);
    await mkdir(path.join(sdk, "include", "vulkan"), { recursive: true });
    await writeFile(path.join(sdk, "include", "vulkan", "vulkan.h"), "");
    await mkdir(path.join(sdk, "lib"), { recursive: true });
    await writeFile(path.join(sdk, "lib", "libvulkan.so"), "");
    const toolchain = await checkBuildTools("vulkan", lookup([basics], { VULKAN_SDK: sdk }));
    expect(toolchain.glslc).toEqual({ path: path.join(sdk, "bin", "glslc"), version: "2023.8" });
  });

  it("refuses metal off macOS before looking for any tool", async () => {
    await expect(checkBuildTools("metal", lookup([basics]))).rejects.toMatchObject({
      code: "backend_unsupported_here",
      message: expect.stringContaining("metal workers run on macOS only"),
    });
  });

  it("tells a Mac user to install Xcode's command line tools", async () => {
    const error = await checkBuildTools("metal", lookup([], {}, "darwin")).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain("a C++ compiler (install Xcode's command line tools: `xcode-select --install`)");
    expect((error as Error).message).toContain("cmake (e.g. `brew install cmake`)");
  });
});
