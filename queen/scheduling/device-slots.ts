// The places a worker for one model could load: each GPU (by backend and index) and the CPU of
// each online hive that has the model in its catalog, with the memory free there now, what the
// loads in progress will still take of it, and which workers hold the rest. The spawn planner
// chooses among them; /v1/models asks whether any could ever hold the model.
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import type { WorkerDevice } from "../../shared/protocol/worker-heartbeat.js";
import type { LiveWorker } from "./contracts.js";
import type { HiveFacts } from "./hive-facts.js";

/** A worker_spawn the queen started whose worker may not yet show in its hive's free memory. */
export interface PendingSpawn {
  workerId: string;
  hiveName: string;
  model: string;
  workerType: WorkerDevice;
  device?: number;
  /** The estimate the plan claimed for it. */
  memoryBytes: number;
}

export interface DeviceSlot {
  hiveName: string;
  workerType: WorkerDevice;
  /** The GPU's index; undefined for the CPU. */
  device?: number;
  /** What the model needs here: VRAM fully offloaded on a GPU, RAM on the CPU. */
  needBytes: number;
  /**
   * Free now, less what loads in progress will still take: below zero where a load in progress
   * counts on memory a worker it stops will free, which is then spoken for.
   */
  freeBytes: number;
  /** What loads in progress will still take: memory that is not free, but not for good either. */
  claimedBytes: number;
  /** All the device has (the hive's budget where it sets one): what no wait can go beyond. */
  totalBytes: number;
  /** Workers whose memory is on this device, with what each holds. */
  residents: Array<{ worker: LiveWorker; heldBytes: number }>;
  catalogModel: CatalogModel;
}

/** What the device could hold with every worker on it stopped and every load done and stopped. */
export function capacityOf(slot: DeviceSlot): number {
  return slot.freeBytes + slot.claimedBytes + slot.residents.reduce((sum, resident) => sum + resident.heldBytes, 0);
}

/** The slots where `model` could load (only `pinnedHive`'s when given). */
export function deviceSlots(model: string, hives: HiveFacts[], workers: LiveWorker[], pending: PendingSpawn[] = [], pinnedHive?: string): DeviceSlot[] {
  const slots: DeviceSlot[] = [];
  for (const facts of hives) {
    if (pinnedHive !== undefined && facts.hiveName !== pinnedHive) continue;
    const catalogModel = facts.models.find((candidate) => candidate.name === model);
    if (!catalogModel) continue;
    const hiveWorkers = workers.filter((worker) => worker.hiveName === facts.hiveName);
    const hivePending = pending.filter((spawn) => spawn.hiveName === facts.hiveName);
    const { devices } = facts;
    for (const gpu of devices.gpus) {
      const free = gpu.vramFreeBytes ?? gpu.vramTotalBytes;
      // A GPU whose memory its tool does not report (Vulkan) cannot be shown to fit: not offered.
      if (free === null || !devices.workerTypes.includes(gpu.backend)) continue;
      slots.push(slot(facts, gpu.backend, gpu.index, catalogModel.vramBytes, free, gpu.vramTotalBytes ?? free, hiveWorkers, hivePending, catalogModel));
    }
    slots.push(slot(facts, "cpu", undefined, catalogModel.memoryBytes, devices.ramFreeBytes, devices.ramTotalBytes, hiveWorkers, hivePending, catalogModel));
  }
  return slots;
}

function slot(
  facts: HiveFacts,
  workerType: WorkerDevice,
  device: number | undefined,
  needBytes: number,
  reportedFree: number,
  totalBytes: number,
  workers: LiveWorker[],
  pending: PendingSpawn[],
  catalogModel: CatalogModel,
): DeviceSlot {
  const onGpu = workerType !== "cpu";
  const held = (worker: LiveWorker) => (onGpu ? (worker.memoryVramBytes ?? 0) : worker.memoryRssBytes);
  const here = (type: WorkerDevice, index: number | undefined) => type === workerType && (!onGpu || index === undefined || index === device);
  const pendingHere = pending.filter((spawn) => here(spawn.workerType, spawn.device));
  const pendingIds = new Set(pending.map((spawn) => spawn.workerId));
  // Where a worker is: its pending spawn says (a worker early in loading reports no device yet),
  // else its own report; a heartbeat names the backend, not the GPU, so it counts on each of them.
  const residents = workers
    .filter((worker) => {
      const spawn = pending.find((candidate) => candidate.workerId === worker.workerId);
      return spawn ? here(spawn.workerType, spawn.device) : here(worker.device ?? "cpu", undefined);
    })
    .map((worker) => ({ worker, heldBytes: held(worker) }));
  // Loads in progress will take the rest of their estimate: a spawn with no worker yet all of it.
  let claimed = 0;
  for (const spawn of pendingHere) {
    const worker = workers.find((candidate) => candidate.workerId === spawn.workerId);
    claimed += Math.max(0, spawn.memoryBytes - (worker ? held(worker) : 0));
  }
  for (const { worker, heldBytes } of residents) {
    if (worker.state !== "loading" || pendingIds.has(worker.workerId)) continue;
    const model = facts.models.find((candidate) => candidate.name === worker.model);
    if (model) claimed += Math.max(0, (onGpu ? model.vramBytes : model.memoryBytes) - heldBytes);
  }
  return {
    hiveName: facts.hiveName,
    workerType,
    ...(device === undefined ? {} : { device }),
    needBytes,
    // Not floored at zero: a load that stops a worker to make room claims more than is free now,
    // and the part it takes of that worker's memory must not be offered to the next plan too.
    freeBytes: reportedFree - claimed,
    claimedBytes: claimed,
    totalBytes,
    residents,
    catalogModel,
  };
}
