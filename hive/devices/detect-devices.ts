// Describes this machine for the queen: GPUs, memory, CPU, OS and the worker types it can run.
// The hive calls it for the hello and on each periodic refresh, so it is quick (every tool runs
// in parallel under a timeout) and never throws because a tool is missing or misbehaves.
import os from "node:os";
import { HiveDevices, type HiveGpu, MAX_GPUS } from "../../shared/protocol/hive-devices.js";
import { detectAppleGpus, type MachineKind } from "./apple-metal.js";
import { detectNvidiaGpus } from "./nvidia-smi.js";
import type { ToolOptions } from "./run-tool.js";
import { detectVulkanGpus, PCI_VENDOR } from "./vulkan-info.js";
import { type LlamaGpuType, supportedLlamaGpuTypes, usableWorkerTypes } from "./worker-types.js";

export const DEFAULTS = {
  /** How long one tool (nvidia-smi, vulkaninfo, sysctl) may run, ms. */
  toolTimeoutMs: 1500,
  /**
   * How long node-llama-cpp may take to load and list its usable backends, ms. A cold first
   * load can take longer; that hello then offers CPU workers only and the next refresh, with
   * the module loaded, corrects it.
   */
  llamaProbeTimeoutMs: 1500,
} as const;

export interface DetectDevicesOptions {
  /** Environment the tools run with (its PATH finds them); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Told about tools that exist but failed; default: silent. */
  log?: (line: string) => void;
  /** How long one tool may run, ms; default DEFAULTS.toolTimeoutMs. */
  toolTimeoutMs?: number;
  /** For tests: the platform and arch to detect for, and node-llama-cpp's answer. */
  machine?: MachineKind;
  supportedGpuTypes?: () => Promise<LlamaGpuType[]>;
}

export async function detectDevices(options: DetectDevicesOptions = {}): Promise<HiveDevices> {
  const log = options.log ?? (() => {});
  const tools: ToolOptions = { env: options.env ?? process.env, timeoutMs: options.toolTimeoutMs ?? DEFAULTS.toolTimeoutMs, log };
  const [nvidia, apple, vulkan, supported] = await Promise.all([
    detectNvidiaGpus(tools, options.machine?.platform),
    detectAppleGpus(tools, options.machine),
    detectVulkanGpus(tools, options.machine?.platform),
    options.supportedGpuTypes?.() ?? supportedLlamaGpuTypes(DEFAULTS.llamaProbeTimeoutMs, log),
  ]);
  // Each physical GPU once: Vulkan also lists the GPUs nvidia-smi and Metal already reported.
  const skippedVendors = new Set<number>();
  if (nvidia.length > 0) skippedVendors.add(PCI_VENDOR.nvidia);
  if (apple.length > 0) skippedVendors.add(PCI_VENDOR.apple);
  const vulkanOnly = vulkan.filter(({ vendorId }) => vendorId === undefined || !skippedVendors.has(vendorId)).map(({ gpu }) => gpu);
  const gpus: HiveGpu[] = [...nvidia, ...apple, ...vulkanOnly].slice(0, MAX_GPUS);

  const cpus = os.cpus();
  const devices: HiveDevices = {
    gpus,
    ramTotalBytes: os.totalmem(),
    ramFreeBytes: os.freemem(),
    cpu: { model: (cpus[0]?.model.trim() || "unknown").slice(0, 256), cores: os.availableParallelism() },
    os: os.platform(),
    osRelease: os.release().slice(0, 256),
    arch: os.arch(),
    workerTypes: usableWorkerTypes(gpus, supported),
  };
  // Parsed before it leaves, so a mistake here shows up in the hive's tests, not at the queen.
  return HiveDevices.parse(devices);
}
