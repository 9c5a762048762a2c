// Finds GPUs that only Vulkan drives (AMD, Intel) with `vulkaninfo --summary`, when the Vulkan
// tools are installed; without them the hive reports no Vulkan GPU rather than guessing.
import type { HiveGpu } from "../../shared/protocol/hive-devices.js";
import { runFirstTool, type ToolOptions, toolNames } from "./run-tool.js";

/** PCI vendor IDs whose GPUs another backend already reports (CUDA, Metal). */
export const PCI_VENDOR = { nvidia: 0x10de, apple: 0x106b } as const;

export interface VulkanGpu {
  gpu: HiveGpu;
  /** PCI vendor ID, so a GPU nvidia-smi already listed is not listed twice. */
  vendorId: number | undefined;
}

/** The Vulkan devices that are real GPUs; none when vulkaninfo is absent or fails. */
export async function detectVulkanGpus(options: ToolOptions, platform: NodeJS.Platform = process.platform): Promise<VulkanGpu[]> {
  const output = await runFirstTool(toolNames("vulkaninfo", platform, options.env), ["--summary"], options);
  return output === undefined ? [] : parseVulkanSummary(output);
}

/**
 * Reads the `Devices:` part of `vulkaninfo --summary`: blocks headed `GPU0:` holding lines like
 * `deviceName = AMD Radeon RX 7900 XTX`. Software renderers (llvmpipe, type CPU) are left out:
 * a worker on them is slower than the CPU backend.
 */
export function parseVulkanSummary(output: string): VulkanGpu[] {
  const devices: Array<{ index: number; fields: Map<string, string> }> = [];
  for (const line of output.split(/\r?\n/)) {
    const header = /^\s*GPU(\d+):\s*$/.exec(line);
    if (header) {
      devices.push({ index: Number(header[1]), fields: new Map() });
      continue;
    }
    const field = /^\s*(\w+)\s*=\s*(.*?)\s*$/.exec(line);
    const current = devices.at(-1);
    if (field && current && field[1] !== undefined && field[2] !== undefined) current.fields.set(field[1], field[2]);
  }
  const gpus: VulkanGpu[] = [];
  for (const { index, fields } of devices) {
    const name = fields.get("deviceName");
    if (name === undefined || name === "" || fields.get("deviceType") === "PHYSICAL_DEVICE_TYPE_CPU") continue;
    const vendorText = fields.get("vendorID");
    const vendorId = vendorText !== undefined && /^0x[0-9a-f]+$/i.test(vendorText) ? Number.parseInt(vendorText, 16) : undefined;
    gpus.push({ gpu: { index, name: name.slice(0, 256), backend: "vulkan", vramTotalBytes: null, vramFreeBytes: null }, vendorId });
  }
  return gpus;
}
