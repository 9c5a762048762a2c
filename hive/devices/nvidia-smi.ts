// Finds NVIDIA GPUs by asking nvidia-smi, which ships with the driver: no nvidia-smi means no
// usable CUDA device, whatever PCI cards the machine has.
import type { HiveGpu } from "../../shared/protocol/hive-devices.js";
import { runFirstTool, type ToolOptions, toolNames } from "./run-tool.js";

const MIB = 1024 * 1024;

export const NVIDIA_SMI_ARGS = ["--query-gpu=index,name,memory.total,memory.free", "--format=csv,noheader,nounits"] as const;

/** The CUDA GPUs nvidia-smi lists; none when it is absent or fails. */
export async function detectNvidiaGpus(options: ToolOptions, platform: NodeJS.Platform = process.platform): Promise<HiveGpu[]> {
  const output = await runFirstTool(toolNames("nvidia-smi", platform, options.env), NVIDIA_SMI_ARGS, options);
  return output === undefined ? [] : parseNvidiaSmi(output, options.log);
}

/**
 * Parses lines like `0, NVIDIA GeForce RTX 4090, 24564, 23012` (memory in MiB). A line that
 * does not fit is skipped and reported, so one odd GPU does not hide the others.
 */
export function parseNvidiaSmi(output: string, log: (line: string) => void = () => {}): HiveGpu[] {
  const gpus: HiveGpu[] = [];
  for (const rawLine of output.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "") continue;
    const gpu = parseLine(line);
    if (gpu === undefined) log(`device detection: skipped an nvidia-smi line that is not "index, name, total MiB, free MiB": ${line.slice(0, 200)}`);
    else gpus.push(gpu);
  }
  return gpus;
}

function parseLine(line: string): HiveGpu | undefined {
  const fields = line.split(",").map((field) => field.trim());
  if (fields.length < 4) return undefined;
  // Index first and memory last, so a name that holds a comma still parses.
  const [indexText = "", ...rest] = fields;
  const freeText = rest.pop() ?? "";
  const totalText = rest.pop() ?? "";
  const name = rest.join(", ");
  if (!/^\d{1,4}$/.test(indexText) || name === "") return undefined;
  const vramTotalBytes = parseMib(totalText);
  const vramFreeBytes = parseMib(freeText);
  if (vramTotalBytes === undefined || vramFreeBytes === undefined) return undefined;
  return { index: Number(indexText), name: name.slice(0, 256), backend: "cuda", vramTotalBytes, vramFreeBytes };
}

/** Bytes from a MiB count; null for a value nvidia-smi cannot read; undefined for garbage. */
function parseMib(text: string): number | null | undefined {
  // "[N/A]" and "[Not Supported]" are what nvidia-smi prints for memory it cannot read (some
  // MIG, vGPU and unified-memory setups): the GPU is still there.
  if (/^\[(n\/a|not supported)\]$/i.test(text)) return null;
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Math.round(Number(text) * MIB);
}
