// A spawned worker's environment: an allow-list of what the hive's environment may pass on (what
// a process needs to run, and what GPU runtimes and llama.cpp read), the variable that pins the
// worker to its GPU, and the worker's API secret. An allow-list, not a deny-list of known
// secrets: the hive may hold any credential (cloud keys, tokens of other tools) and a worker
// binary may come from any GitHub release. Used by ./spawn-worker.ts.
import { WORKER_SECRET_ENV } from "../../shared/protocol/worker-launch.js";

/** Variables passed on by exact name (compared in upper case: Windows names ignore case). */
const ALLOWED_NAMES = new Set([
  // Every platform: where programs, home, language and time zone are.
  "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TMP", "TEMP",
  // Where CUDA and ROCm libraries are found on many Linux installs.
  "LD_LIBRARY_PATH",
  // Windows: without SYSTEMROOT and friends, native modules and GPU drivers fail to load.
  "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "APPDATA", "LOCALAPPDATA", "PROGRAMDATA",
  "PROGRAMFILES", "PROGRAMFILES(X86)", "PROGRAMW6432", "COMMONPROGRAMFILES", "USERPROFILE", "USERNAME",
  "HOMEDRIVE", "HOMEPATH", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE", "OS",
]);

/**
 * Variables passed on by prefix: locale (LC_), user folders (XDG_), GPU runtimes (CUDA_, HIP_,
 * ROCR_, HSA_, VK_ for the Vulkan loader, NVIDIA_ for container runtimes), OpenMP threads (OMP_)
 * and llama.cpp's own settings (GGML_, LLAMA_, NODE_LLAMA_CPP_).
 *
 * NODE_OPTIONS and other NODE_ variables are not passed: an `--inspect` or `--require` meant for
 * the hive would run in every worker, and an inspector port would hand any local user the worker.
 */
const ALLOWED_PREFIXES = ["LC_", "XDG_", "CUDA_", "HIP_", "ROCR_", "HSA_", "VK_", "NVIDIA_", "OMP_", "GGML_", "LLAMA_", "NODE_LLAMA_CPP_"];

export type WorkerGpu = "cpu" | "cuda" | "metal" | "vulkan";

/** A worker's environment: the allowed part of the hive's, restricted to the chosen GPU, with its secret. */
export function workerEnv(hiveEnv: NodeJS.ProcessEnv, gpu: WorkerGpu, deviceIndex: number | undefined, secret: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(hiveEnv)) {
    if (value !== undefined && isAllowed(name)) env[name] = value;
  }
  return { ...env, ...visibleDevicesEnv(gpu, deviceIndex), [WORKER_SECRET_ENV]: secret };
}

function isAllowed(name: string): boolean {
  const upper = name.toUpperCase();
  return ALLOWED_NAMES.has(upper) || ALLOWED_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/** Restricts a worker to one GPU of its backend, the way each backend's runtime reads it. */
function visibleDevicesEnv(gpu: WorkerGpu, deviceIndex: number | undefined): Record<string, string> {
  if (deviceIndex === undefined) return {};
  switch (gpu) {
    case "cuda":
      // The index is nvidia-smi's, which numbers GPUs by PCI bus; CUDA's own default order is
      // fastest first, so without this a mixed machine would run the worker on another GPU.
      return { CUDA_DEVICE_ORDER: "PCI_BUS_ID", CUDA_VISIBLE_DEVICES: String(deviceIndex) };
    case "vulkan":
      return { GGML_VK_VISIBLE_DEVICES: String(deviceIndex) };
    case "metal":
    case "cpu":
      return {}; // one Metal device per Mac; the CPU has no index
    default: {
      const unreachable: never = gpu;
      throw new Error(`unknown gpu ${String(unreachable)}`);
    }
  }
}
