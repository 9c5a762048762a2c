// Compares what a model needs (node-llama-cpp's estimate, kept in its catalog entry) with what
// the machine has free right now, before a worker loads it. Only a warning: llama.cpp maps the
// file and can page, layers can stay on the CPU, and estimates are estimates; the worker itself
// reports a load that really fails, with its reason.
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import type { MemoryEstimate } from "../catalog/model/model-artifact.js";
import type { WorkerType } from "../catalog/worker/worker-artifact.js";

const GIB = 1024 ** 3;

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(2)} GiB`;
}

/** A sentence saying why the model may not fit, or undefined when it looks like it does. */
export function memoryShortfall(memory: MemoryEstimate, devices: HiveDevices, workerType: WorkerType, deviceIndex: number | undefined): string | undefined {
  if (workerType === "cpu") {
    if (memory.cpuOnlyRamBytes <= devices.ramFreeBytes) return undefined;
    return `the model needs about ${gib(memory.cpuOnlyRamBytes)} of RAM at context ${memory.contextSize}, and ${gib(devices.ramFreeBytes)} is free`;
  }
  const candidates = devices.gpus.filter((gpu) => gpu.backend === workerType && (deviceIndex === undefined || gpu.index === deviceIndex));
  if (candidates.length === 0) {
    const which = deviceIndex === undefined ? `no ${workerType} GPU` : `no ${workerType} GPU #${deviceIndex}`;
    return `this machine reports ${which}; the worker will fall back to what node-llama-cpp finds`;
  }
  const free = Math.max(...candidates.map((gpu) => gpu.vramFreeBytes ?? gpu.vramTotalBytes ?? Number.POSITIVE_INFINITY));
  if (memory.fullOffloadVramBytes <= free) return undefined;
  return `fully offloaded the model needs about ${gib(memory.fullOffloadVramBytes)} of VRAM at context ${memory.contextSize}, and ${gib(free)} is free; some layers will stay on the CPU`;
}
