// Finds the one Metal GPU of an Apple Silicon Mac. Its memory is unified with the CPU's, so
// its VRAM is all of RAM; llama.cpp's Metal backend does not run on Intel Macs.
import os from "node:os";
import type { HiveGpu } from "../../shared/protocol/hive-devices.js";
import { runTool, type ToolOptions } from "./run-tool.js";

export interface MachineKind {
  platform: NodeJS.Platform;
  arch: string;
}

/** The Apple GPU on darwin arm64, none elsewhere. */
export async function detectAppleGpus(
  options: ToolOptions,
  machine: MachineKind = { platform: os.platform(), arch: os.arch() },
): Promise<HiveGpu[]> {
  if (machine.platform !== "darwin" || machine.arch !== "arm64") return [];
  // The chip's name ("Apple M2 Max") names the GPU too; os.cpus() says the same on most Macs.
  const brand = (await runTool("sysctl", ["-n", "machdep.cpu.brand_string"], options))?.trim();
  const name = brand || os.cpus()[0]?.model.trim() || "Apple GPU";
  return [{ index: 0, name: name.slice(0, 256), backend: "metal", vramTotalBytes: os.totalmem(), vramFreeBytes: os.freemem() }];
}
