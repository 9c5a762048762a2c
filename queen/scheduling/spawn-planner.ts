// Decides where a worker for a model nobody serves should load (or, scaling out, one more beside a
// busy model's), and what must make room for it. Pure: the spawner feeds it the online hives'
// facts, the live workers, the spawns in flight and the dispatcher's view of each worker's use,
// and runs what it returns.
//
// The rule: the model goes where its estimate plus headroom (memory-figures.ts) fits in the free
// memory, less what loads in progress will still take. A device where it fits without stopping
// anything beats one that needs a swap; then a GPU beats the CPU; then the device with the most
// free memory wins (ties: hive name). A swap stops the fewest workers the swap policy allows,
// least recently used first. Where the model could fit only once busy or freshly loaded workers
// are done, the answer is to wait (`memory_busy`), not to evict them, until its requests starve
// (`drainBusy`, swap-policy.ts): then an option that drains fewer busy workers wins over any
// other. Where it could never fit, a refusal that says how much it needs and the most any device has.
//
// A model's policy (model-policy.ts) narrows and orders this: its worker_types leave out other
// devices, its preferred hives rank first (in their order) among the options that stop the same
// number of workers, and its source lets a hive without the model in its catalog load it (the
// worker_spawn downloads it first): a preferred hive always, any hive when no online hive has it.
// An admin who names a hive and a source means the model to run there, not on whichever hive
// happens to hold a copy. A download is taken to need what a catalog copy on another hive needs;
// with no copy anywhere its size is unknown, taken as 0, so it goes to the device with the most
// free memory, and a load that does not fit fails there.
//
// Hives the spawner suspects (suspect-hives.ts: a worker there just went silent) come after every
// other hive where the model fits, whatever they would stop or offer: they are used only when
// nothing else fits.
import type { WorkerDevice } from "../../shared/protocol/worker-heartbeat.js";
import type { LiveWorker } from "./contracts.js";
import { capacityOf, type DeviceSlot, deviceSlots, type PendingSpawn } from "./device-slots.js";
import type { HiveFacts } from "./hive-facts.js";
import type { ModelPolicy } from "./model-policy.js";
import { DEFAULT_HEADROOM, formatBytes, type HeadroomRule, withHeadroom } from "./memory-figures.js";
import { type SwapContext, swapCandidates } from "./swap-policy.js";

export interface PlanInput extends Omit<SwapContext, "model"> {
  model: string;
  /** `model@hive`: only this hive may load it. */
  pinnedHive?: string;
  hives: HiveFacts[];
  workers: LiveWorker[];
  pendingSpawns?: PendingSpawn[];
  headroom?: HeadroomRule;
  /** The model's admin policy, if it has one. */
  policy?: ModelPolicy;
  /** Hives to use only when the model fits nowhere else (something there just went wrong). */
  passOver?: ReadonlySet<string>;
  /**
   * A worker beside the model's busy ones (scaling out): only on a device that runs none of the
   * model yet (on the CPU, a hive of its own, whose cores it would otherwise share; a GPU worker's
   * heartbeat names its backend, not its GPU, so it counts on each GPU of its hive), and only
   * where it fits without stopping anything.
   */
  alongside?: boolean;
}

export interface SpawnPlan {
  ok: true;
  hiveName: string;
  /** The client-facing name the worker will serve. */
  model: string;
  /** The catalog id the worker loads. */
  source: string;
  workerType: WorkerDevice;
  /** The GPU's index; absent for a CPU worker. */
  device?: number;
  /** The estimate claimed on that device while the worker loads. */
  memoryBytes: number;
  /** Workers to stop first, to make room (empty when it fits as it is). */
  stop: LiveWorker[];
}

export type SpawnRefusalCode = "model_not_found" | "model_too_large" | "memory_busy" | "model_policy_unmet";

export interface SpawnRefusal {
  ok: false;
  code: SpawnRefusalCode;
  status: 404 | 503;
  /** memory_busy: the request may wait for a worker to finish; the others are final for now. */
  retryable: boolean;
  message: string;
}

interface Option {
  slot: DeviceSlot;
  stop: LiveWorker[];
  /** How many of `stop` are busy, drained before they stop (a starving model's swap). */
  drains: number;
  freeAfterBytes: number;
}

export function planSpawn(input: PlanInput): SpawnPlan | SpawnRefusal {
  const { policy } = input;
  const everywhere = deviceSlots(input.model, withDownloads(input), input.workers, input.pendingSpawns, input.pinnedHive);
  if (everywhere.length === 0) return notFound(input);
  const allowed = everywhere.filter((slot) => policy?.workerTypes == null || policy.workerTypes.includes(slot.workerType));
  if (allowed.length === 0) return deviceRefused(input.model, policy?.workerTypes ?? [], everywhere);
  const slots = input.alongside ? allowed.filter((slot) => !runsModel(slot, input)) : allowed;
  const options: Option[] = [];
  let couldFitLater = false;
  for (const slot of slots) {
    const required = withHeadroom(slot.needBytes, input.headroom ?? DEFAULT_HEADROOM);
    if (slot.freeBytes >= required) {
      options.push({ slot, stop: [], drains: 0, freeAfterBytes: slot.freeBytes });
      continue;
    }
    if (input.alongside) continue;
    if (capacityOf(slot) < required) {
      // Too small as the hive last said, while workers are being started there (and others
      // stopped to make room for them): its figures are about to change, so "never" is premature
      // for a model the device could hold at all.
      const settling = (input.pendingSpawns ?? []).some((spawn) => spawn.hiveName === slot.hiveName);
      if (settling && slot.totalBytes >= required) couldFitLater = true;
      continue;
    }
    let free = slot.freeBytes;
    const stop: LiveWorker[] = [];
    let drains = 0;
    for (const candidate of swapCandidates(slot.residents, { ...input, model: input.model })) {
      if (free >= required) break;
      free += candidate.heldBytes;
      stop.push(candidate.worker);
      drains += Number(candidate.busy);
    }
    if (free >= required) options.push({ slot, stop, drains, freeAfterBytes: free });
    else couldFitLater = true;
  }
  const rank = (slot: DeviceSlot) => {
    const at = policy?.preferredHives.indexOf(slot.hiveName) ?? -1;
    return at === -1 ? Number.MAX_SAFE_INTEGER : at;
  };
  const suspect = (slot: DeviceSlot) => Number(input.passOver?.has(slot.hiveName) ?? false);
  options.sort(
    (a, b) =>
      suspect(a.slot) - suspect(b.slot) ||
      a.drains - b.drains ||
      a.stop.length - b.stop.length ||
      rank(a.slot) - rank(b.slot) ||
      Number(a.slot.workerType === "cpu") - Number(b.slot.workerType === "cpu") ||
      b.freeAfterBytes - a.freeAfterBytes ||
      a.slot.hiveName.localeCompare(b.slot.hiveName),
  );
  const best = options[0];
  if (best) {
    const { slot } = best;
    return {
      ok: true,
      hiveName: slot.hiveName,
      model: input.model,
      source: slot.catalogModel.source,
      workerType: slot.workerType,
      ...(slot.device === undefined ? {} : { device: slot.device }),
      memoryBytes: slot.needBytes,
      stop: best.stop,
    };
  }
  if (input.alongside) {
    return { ok: false, code: "memory_busy", status: 503, retryable: true, message: `no device without a worker of model '${input.model}' has room for another beside what runs` };
  }
  if (couldFitLater) {
    return {
      ok: false,
      code: "memory_busy",
      status: 503,
      retryable: true,
      message: `model '${input.model}' fits only where workers of other models are busy, were loaded moments ago or are being started; it loads once there is room`,
    };
  }
  return tooLarge(input, slots);
}

/**
 * Whether the model runs (or is being started) on `slot`'s device, or, for the CPU, anywhere on
 * its hive: the workers whose memory is on a GPU are that slot's residents.
 */
function runsModel(slot: DeviceSlot, input: PlanInput): boolean {
  const { model } = input;
  const starting = (input.pendingSpawns ?? []).filter((spawn) => spawn.model === model && spawn.hiveName === slot.hiveName);
  if (slot.workerType === "cpu") return starting.length > 0 || input.workers.some((worker) => worker.model === model && worker.hiveName === slot.hiveName);
  return slot.residents.some((resident) => resident.worker.model === model) || starting.some((spawn) => spawn.workerType === slot.workerType && spawn.device === slot.device);
}

/** Whether `model` could load on some online hive if its workers were stopped (for /v1/models). */
export function fitsSomewhere(model: string, hives: HiveFacts[], workers: LiveWorker[], headroom: HeadroomRule = DEFAULT_HEADROOM): boolean {
  return deviceSlots(model, hives, workers).some((slot) => capacityOf(slot) >= withHeadroom(slot.needBytes, headroom));
}

/** Whether some online hive that has `model` offers a device its policy's worker_types allow (any, without such a list). */
export function offersAllowedDevice(model: string, hives: HiveFacts[], workerTypes: readonly WorkerDevice[] | null | undefined): boolean {
  if (workerTypes == null) return true;
  return deviceSlots(model, hives, []).some((slot) => workerTypes.includes(slot.workerType));
}

/**
 * The hives as the policy's source makes them: each that may download the model (a preferred one;
 * any, when no hive in reach has it) lists it as a download, of a catalog copy's size where some
 * hive has one, else 0.
 */
function withDownloads(input: PlanInput): HiveFacts[] {
  const { model, policy, hives } = input;
  if (!policy?.source) return hives;
  const source = policy.source;
  const copy = hives.flatMap((facts) => facts.models).find((candidate) => candidate.name === model);
  const download = { source, name: model, sizeBytes: copy?.sizeBytes ?? 0, memoryBytes: copy?.memoryBytes ?? 0, vramBytes: copy?.vramBytes ?? 0 };
  const has = (facts: HiveFacts) => facts.models.some((candidate) => candidate.name === model);
  const inReach = (facts: HiveFacts) => input.pinnedHive === undefined || facts.hiveName === input.pinnedHive;
  const anyHas = hives.some((facts) => inReach(facts) && has(facts));
  const mayDownload = (facts: HiveFacts) => !has(facts) && (!anyHas || policy.preferredHives.includes(facts.hiveName));
  return hives.map((facts) => (mayDownload(facts) ? { ...facts, models: [...facts.models, download] } : facts));
}

function deviceRefused(model: string, allowed: readonly WorkerDevice[], slots: DeviceSlot[]): SpawnRefusal {
  const offered = [...new Set(slots.map((slot) => `${slot.workerType} on hive ${slot.hiveName}`))].join(", ");
  return {
    ok: false,
    code: "model_policy_unmet",
    status: 503,
    retryable: false,
    message: `the policy for model '${model}' allows only ${allowed.join("/")} workers, and no online hive that has it offers one (it could load as ${offered}). Change worker_types with PUT /v1/models/${model}/policy, or connect a hive with such a device.`,
  };
}

function notFound(input: PlanInput): SpawnRefusal {
  const { model, pinnedHive } = input;
  const download = `Download it to a hive (POST /v1/jobs {"operation": "model_download", "hive": …, "model": "hf:org/repo:file.gguf"}) or start a worker for it.`;
  // The planner sees online hives only: one that has the model may be offline, and then no download is needed.
  const message =
    pinnedHive === undefined
      ? `no online hive has it in its catalog (a hive that has it may be offline). ${download}`
      : input.hives.some((facts) => facts.hiveName === pinnedHive)
        ? `hive '${pinnedHive}' does not have it in its catalog. ${download}`
        : `hive '${pinnedHive}' is offline; it can be served there once the hive connects again.`;
  return { ok: false, code: "model_not_found", status: 404, retryable: false, message: `The model '${model}' does not exist or no worker serves it: ${message}` };
}

function tooLarge(input: PlanInput, slots: DeviceSlot[]): SpawnRefusal {
  const largest = (kind: "gpu" | "cpu") =>
    slots
      .filter((slot) => (slot.workerType === "cpu") === (kind === "cpu"))
      .reduce<DeviceSlot | undefined>((best, slot) => (best === undefined || capacityOf(slot) > capacityOf(best) ? slot : best), undefined);
  const gpu = largest("gpu");
  const cpu = largest("cpu");
  const model = slots[0]?.catalogModel;
  const needs = gpu && model ? `about ${formatBytes(model.vramBytes)} of GPU memory or ${formatBytes(model.memoryBytes)} of RAM` : `about ${formatBytes(model?.memoryBytes ?? 0)}`;
  const parts = [`model '${input.model}' needs ${needs}`];
  const inScope = input.pinnedHive === undefined ? "no hive that has it reports" : `hive '${input.pinnedHive}' reports no`;
  parts.push(gpu ? `the largest free GPU has ${formatBytes(capacityOf(gpu))}, on hive ${gpu.hiveName}` : `${inScope} GPU with known free memory`);
  if (cpu) parts.push(`the most free RAM is ${formatBytes(capacityOf(cpu))}, on hive ${cpu.hiveName}`);
  return {
    ok: false,
    code: "model_too_large",
    status: 503,
    retryable: false,
    message: `${parts.join("; ")}. Use a smaller quantization, or give a hive more memory (a larger --memory-budget, another machine).`,
  };
}
