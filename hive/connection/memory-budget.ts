// Applies the hive's --memory-budget to what it reports: at most the budget as total RAM (and
// VRAM per GPU), and the budget less what this hive's own workers use as free. Several hives on
// one machine (no GPU here) then each offer the queen their own share, and a worker stopped by
// one hive frees that hive's share at once.
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";

/** What this hive's live workers hold now, in bytes. */
export interface WorkerMemoryUse {
  ramBytes: number;
  vramBytes: number;
}

export function applyMemoryBudget(devices: HiveDevices, budgetBytes: number | undefined, used: WorkerMemoryUse): HiveDevices {
  if (budgetBytes === undefined) return devices;
  const left = (usedBytes: number) => Math.max(0, budgetBytes - usedBytes);
  return {
    ...devices,
    ramTotalBytes: Math.min(devices.ramTotalBytes, budgetBytes),
    ramFreeBytes: Math.min(devices.ramFreeBytes, left(used.ramBytes)),
    gpus: devices.gpus.map((gpu) => ({
      ...gpu,
      vramTotalBytes: Math.min(gpu.vramTotalBytes ?? budgetBytes, budgetBytes),
      vramFreeBytes: Math.min(gpu.vramFreeBytes ?? budgetBytes, left(used.vramBytes)),
    })),
  };
}
