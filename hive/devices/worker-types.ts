// Which kinds of worker this hive can start: the CPU always, and each GPU backend for which
// node-llama-cpp has a usable binary here *and* a GPU was found to run it on.
import type { GpuBackend, HiveGpu } from "../../shared/protocol/hive-devices.js";
import type { WorkerDevice } from "../../shared/protocol/worker-heartbeat.js";

/** node-llama-cpp's name for a backend; `false` is its CPU-only build. */
export type LlamaGpuType = GpuBackend | false;

/**
 * The GPU backends node-llama-cpp finds drivers and a prebuilt binary for, or none when it does
 * not answer in time (its first call probes libraries on disk).
 */
export async function supportedLlamaGpuTypes(timeoutMs: number, log: (line: string) => void): Promise<LlamaGpuType[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    // Imported here, not at the top: loading node-llama-cpp takes ~0.5 s the daemon need not pay
    // before it is asked.
    const probe = import("node-llama-cpp").then(({ getLlamaGpuTypes }) => getLlamaGpuTypes("supported"));
    const result = await Promise.race([probe, timeout]);
    if (result !== "timeout") return result;
    log(`device detection: node-llama-cpp did not list its GPU backends within ${timeoutMs} ms; offering CPU workers only`);
  } catch (error) {
    log(`device detection: node-llama-cpp could not list its GPU backends (${(error as Error).message}); offering CPU workers only`);
  } finally {
    clearTimeout(timer);
  }
  return [false];
}

/**
 * CUDA and Metal need a GPU of their own kind. Vulkan drives any GPU (NVIDIA ones too, which
 * nvidia-smi reports as CUDA), so it needs only some GPU; node-llama-cpp already checked that
 * the Vulkan loader is installed.
 */
export function usableWorkerTypes(gpus: readonly HiveGpu[], supported: readonly LlamaGpuType[]): WorkerDevice[] {
  const types: WorkerDevice[] = ["cpu"];
  for (const backend of ["cuda", "metal", "vulkan"] as const) {
    if (!supported.includes(backend)) continue;
    const hasGpu = backend === "vulkan" ? gpus.length > 0 : gpus.some((gpu) => gpu.backend === backend);
    if (hasGpu) types.push(backend);
  }
  return types;
}
