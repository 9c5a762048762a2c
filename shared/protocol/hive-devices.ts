// What a hive's machine can run: its GPUs, memory, CPU and the worker types it can start. The
// hive sends it in the hello and again on a periodic refresh (free memory changes), and the
// queen uses it to choose where a worker goes.
import { z } from "zod";
import { Bytes, MAX_CPU_CORES } from "./figures.js";
import { WorkerDevice } from "./worker-heartbeat.js";

/** More GPUs than any one machine has; bounds what the queen stores per hive. */
export const MAX_GPUS = 64;

/** The API a GPU is driven through: CUDA on NVIDIA, Metal on Apple Silicon, Vulkan on the rest. */
export const GpuBackend = WorkerDevice.exclude(["cpu"]);
export type GpuBackend = z.infer<typeof GpuBackend>;

export const HiveGpu = z.object({
  /** The device's index as its backend numbers it (CUDA_VISIBLE_DEVICES, the Vulkan device list). */
  index: z.number().int().min(0).max(1023),
  name: z.string().min(1).max(256),
  backend: GpuBackend,
  /**
   * Memory on the device, in bytes; on Apple Silicon the unified memory, i.e. all of RAM. Null
   * where the tool that found the GPU does not report it (`vulkaninfo --summary` does not).
   */
  vramTotalBytes: Bytes.nullable(),
  /** Free memory on the device, in bytes; null where the tool does not report it (Vulkan, some NVIDIA). */
  vramFreeBytes: Bytes.nullable(),
});
export type HiveGpu = z.infer<typeof HiveGpu>;

export const HiveDevices = z.object({
  gpus: z.array(HiveGpu).max(MAX_GPUS),
  ramTotalBytes: Bytes,
  /** Memory available to new processes (Linux: MemAvailable), in bytes. */
  ramFreeBytes: Bytes,
  cpu: z.object({ model: z.string().max(256), cores: z.number().int().positive().max(MAX_CPU_CORES) }),
  /** `os.platform()`: linux, darwin, win32, … */
  os: z.string().max(64),
  /** `os.release()`, the kernel version. */
  osRelease: z.string().max(256),
  /** `os.arch()`: x64, arm64, … */
  arch: z.string().max(64),
  /** Backends a worker can be started with here; always holds `cpu`. */
  workerTypes: z.array(WorkerDevice).min(1).max(WorkerDevice.options.length),
});
export type HiveDevices = z.infer<typeof HiveDevices>;

/** The devices as the public API shows them (GET /v1/hives, hive_check): snake_case. */
export function publicDevices(devices: HiveDevices) {
  return {
    gpus: devices.gpus.map((gpu) => ({
      index: gpu.index,
      name: gpu.name,
      backend: gpu.backend,
      vram_total_bytes: gpu.vramTotalBytes,
      vram_free_bytes: gpu.vramFreeBytes,
    })),
    ram_total_bytes: devices.ramTotalBytes,
    ram_free_bytes: devices.ramFreeBytes,
    cpu: devices.cpu,
    os: devices.os,
    os_release: devices.osRelease,
    arch: devices.arch,
    worker_types: devices.workerTypes,
  };
}
