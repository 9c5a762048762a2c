import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HiveDevices } from "../../shared/protocol/hive-devices.js";
import { detectDevices } from "./detect-devices.js";
import { parseNvidiaSmi } from "./nvidia-smi.js";
import { toolNames } from "./run-tool.js";
import { parseVulkanSummary } from "./vulkan-info.js";
import { usableWorkerTypes } from "./worker-types.js";

const MIB = 1024 * 1024;
const linux = { platform: "linux", arch: "x64" } as const;
const cpuOnly = async () => [false as const];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "rbee-devices-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * A folder holding fake tools, each a bash script, as the whole PATH: no real tool is found, so
 * the scripts use bash builtins only.
 */
async function fakeTools(name: string, scripts: Record<string, string>): Promise<NodeJS.ProcessEnv> {
  const dir = path.join(root, name);
  await mkdir(dir);
  for (const [tool, body] of Object.entries(scripts)) {
    const file = path.join(dir, tool);
    await writeFile(file, `#!/bin/bash\n${body}\n`);
    await chmod(file, 0o755);
  }
  return { PATH: dir };
}

/** A bash line printing `text` as it is. */
function print(text: string): string {
  return `printf '%s\\n' '${text.replaceAll("'", `'\\''`)}'`;
}

describe("detectDevices", () => {
  it("reads nvidia-smi's CSV into CUDA GPUs with memory in bytes, skipping lines that do not fit", async () => {
    const env = await fakeTools("nvidia", {
      "nvidia-smi": `[[ "$*" == "--query-gpu=index,name,memory.total,memory.free --format=csv,noheader,nounits" ]] || exit 3
${print("0, NVIDIA GeForce RTX 4090, 24564, 23012\nthis is not a gpu\n1, NVIDIA A100-SXM4-80GB, 81920, [N/A]")}`,
    });
    const logs: string[] = [];
    const devices = await detectDevices({ env, log: (line) => logs.push(line), machine: linux, supportedGpuTypes: async () => ["cuda", "vulkan", false] });
    expect(devices.gpus).toEqual([
      { index: 0, name: "NVIDIA GeForce RTX 4090", backend: "cuda", vramTotalBytes: 24564 * MIB, vramFreeBytes: 23012 * MIB },
      { index: 1, name: "NVIDIA A100-SXM4-80GB", backend: "cuda", vramTotalBytes: 81920 * MIB, vramFreeBytes: null },
    ]);
    expect(devices.workerTypes).toEqual(["cpu", "cuda", "vulkan"]);
    expect(logs).toEqual([expect.stringContaining("this is not a gpu")]);
    expect(HiveDevices.safeParse(devices).success).toBe(true);
  });

  it("finds no GPU and offers CPU workers only when no tool is installed", async () => {
    const env = await fakeTools("empty", {});
    const logs: string[] = [];
    const devices = await detectDevices({ env, log: (line) => logs.push(line), machine: linux, supportedGpuTypes: cpuOnly });
    expect(devices.gpus).toEqual([]);
    expect(devices.workerTypes).toEqual(["cpu"]);
    expect(devices).toMatchObject({ ramTotalBytes: os.totalmem(), os: os.platform(), arch: os.arch(), cpu: { cores: os.availableParallelism() } });
    expect(logs).toEqual([]);
  });

  it("treats an nvidia-smi that fails or hangs as no GPU, says why, and gives up on one that hangs", async () => {
    const failing = await fakeTools("failing", {
      "nvidia-smi": `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2; exit 9`,
    });
    const logs: string[] = [];
    const failed = await detectDevices({ env: failing, log: (line) => logs.push(line), machine: linux, supportedGpuTypes: cpuOnly });
    expect(failed.gpus).toEqual([]);
    expect(logs).toEqual([expect.stringMatching(/nvidia-smi failed \(exit code 9\): NVIDIA-SMI has failed/)]);

    const hanging = await fakeTools("hanging", { "nvidia-smi": "while :; do :; done" });
    // Without the tool timeout this never returns (the fake loops forever) and the test times out.
    const hung = await detectDevices({ env: hanging, machine: linux, supportedGpuTypes: cpuOnly, toolTimeoutMs: 200 });
    expect(hung.gpus).toEqual([]);
  });

  it("lists a Vulkan-only GPU once, leaving out NVIDIA's (already CUDA) and software renderers", async () => {
    const env = await fakeTools("vulkan", {
      "nvidia-smi": print("0, NVIDIA GeForce RTX 3090, 24576, 24000"),
      vulkaninfo: `[[ "$*" == "--summary" ]] || exit 3\n${print(VULKAN_SUMMARY)}`,
    });
    const devices = await detectDevices({ env, machine: linux, supportedGpuTypes: async () => ["vulkan", false] });
    expect(devices.gpus.map((gpu) => [gpu.backend, gpu.index, gpu.name])).toEqual([
      ["cuda", 0, "NVIDIA GeForce RTX 3090"],
      ["vulkan", 1, "AMD Radeon RX 7900 XTX (RADV NAVI31)"],
    ]);
    // node-llama-cpp has no CUDA binary here, so only Vulkan workers can use the GPUs.
    expect(devices.workerTypes).toEqual(["cpu", "vulkan"]);
  });

  it("reports an Apple Silicon Mac's GPU as Metal with all of RAM as its memory", async () => {
    const env = await fakeTools("mac", { sysctl: `[[ "$*" == "-n machdep.cpu.brand_string" ]] && echo "Apple M2 Max"` });
    const devices = await detectDevices({ env, machine: { platform: "darwin", arch: "arm64" }, supportedGpuTypes: async () => ["metal", false] });
    expect(devices.gpus).toEqual([{ index: 0, name: "Apple M2 Max", backend: "metal", vramTotalBytes: os.totalmem(), vramFreeBytes: expect.any(Number) }]);
    expect(devices.workerTypes).toEqual(["cpu", "metal"]);
  });

  it("describes this machine with node-llama-cpp's real answer", async () => {
    const devices = await detectDevices();
    expect(HiveDevices.safeParse(devices).success).toBe(true);
    expect(devices.workerTypes[0]).toBe("cpu");
  });
});

describe("parseNvidiaSmi", () => {
  it("keeps a name with a comma and skips lines with a bad index or memory", () => {
    const gpus = parseNvidiaSmi("0, Odd, Name GPU, 1024, 512\nx, GPU, 1, 1\n1, GPU, lots, 1\n2, GPU, 10\n\n");
    expect(gpus).toEqual([{ index: 0, name: "Odd, Name GPU", backend: "cuda", vramTotalBytes: 1024 * MIB, vramFreeBytes: 512 * MIB }]);
  });
});

describe("parseVulkanSummary", () => {
  it("reads each device's name and vendor", () => {
    expect(parseVulkanSummary(VULKAN_SUMMARY).map(({ gpu, vendorId }) => [gpu.index, gpu.name, vendorId])).toEqual([
      [0, "NVIDIA GeForce RTX 3090", 0x10de],
      [1, "AMD Radeon RX 7900 XTX (RADV NAVI31)", 0x1002],
    ]);
  });
});

describe("usableWorkerTypes", () => {
  const cuda = { index: 0, name: "g", backend: "cuda", vramTotalBytes: 1, vramFreeBytes: 1 } as const;
  it("offers a backend only when node-llama-cpp supports it and a GPU runs it", () => {
    expect(usableWorkerTypes([], ["cuda", "vulkan", false])).toEqual(["cpu"]);
    expect(usableWorkerTypes([cuda], [false])).toEqual(["cpu"]);
    expect(usableWorkerTypes([cuda], ["cuda", false])).toEqual(["cpu", "cuda"]);
    expect(usableWorkerTypes([cuda], ["metal", false])).toEqual(["cpu"]);
  });
});

const VULKAN_SUMMARY = `==========
VULKANINFO
==========

Vulkan Instance Version: 1.3.275

Devices:
========
GPU0:
	apiVersion         = 1.3.277
	driverVersion      = 550.54.14.0
	vendorID           = 0x10de
	deviceID           = 0x2204
	deviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU
	deviceName         = NVIDIA GeForce RTX 3090
GPU1:
	apiVersion         = 1.3.274
	vendorID           = 0x1002
	deviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU
	deviceName         = AMD Radeon RX 7900 XTX (RADV NAVI31)
GPU2:
	apiVersion         = 1.3.274
	vendorID           = 0x10005
	deviceType         = PHYSICAL_DEVICE_TYPE_CPU
	deviceName         = llvmpipe (LLVM 17.0.6, 256 bits)`;

describe("device tools on Windows", () => {
  it("looks for nvidia-smi on PATH, then where older drivers put it, and for the Vulkan SDK's vulkaninfoSDK", () => {
    expect(toolNames("nvidia-smi", "win32", { ProgramFiles: "C:\\Program Files" })).toEqual([
      "nvidia-smi",
      "C:\\Program Files\\NVIDIA Corporation\\NVSMI\\nvidia-smi.exe",
    ]);
    expect(toolNames("vulkaninfo", "win32", {})).toEqual(["vulkaninfo", "vulkaninfoSDK"]);
    expect(toolNames("nvidia-smi", "darwin", {})).toEqual(["nvidia-smi"]);
  });

  it("finds a Vulkan GPU through vulkaninfoSDK when that is the only Vulkan tool", async () => {
    const summary = ["Devices:", "========", "GPU0:", "\tvendorID = 0x1002", "\tdeviceType = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU", "\tdeviceName = AMD Radeon RX 7900 XTX"].join("\n");
    const env = await fakeTools("windows-vulkan", { vulkaninfoSDK: print(summary) });
    const devices = await detectDevices({ env, machine: { platform: "win32", arch: "x64" }, supportedGpuTypes: async () => ["vulkan", false] });
    expect(devices.gpus).toEqual([expect.objectContaining({ name: "AMD Radeon RX 7900 XTX", backend: "vulkan" })]);
    const onLinux = await detectDevices({ env, machine: linux, supportedGpuTypes: async () => ["vulkan", false] });
    expect(onLinux.gpus).toEqual([]);
  });
});

