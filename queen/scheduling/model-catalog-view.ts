// What GET /v1/models says about each model: every model some online hive has in its catalog,
// every model a live worker serves, and every model a policy's `source` lets a hive download (a
// request for it starts one), with its state — `loaded` (a worker is ready), `loading` (a
// worker is loading it), `loadable` (it fits on some online hive), `too_large` (it fits on none),
// `unavailable` (its policy allows no device these hives offer) — a rough wait in seconds, and
// the hives that have it. Pure; the Registry feeds it.
import { isServingState } from "../../shared/protocol/worker-heartbeat.js";
import type { LiveWorker } from "./contracts.js";
import type { HiveFacts } from "./hive-facts.js";
import { estimatedLoadSeconds } from "./memory-figures.js";
import type { ModelPolicy } from "./model-policy.js";
import { fitsSomewhere, offersAllowedDevice } from "./spawn-planner.js";

/** `unavailable`: no online hive that has it offers a device its policy's worker_types allow (or, for an alias, nobody has its target: routes/models.ts). */
export type ModelState = "loaded" | "loading" | "loadable" | "too_large" | "unavailable";

export interface ModelStateView {
  id: string;
  /** When the queen first saw the model, Unix seconds (OpenAI's `created`). */
  created: number;
  state: ModelState;
  /**
   * Seconds a request would wait for a worker: when loaded, for the requests queued ahead of it
   * (0 with none); for loadable a rough guess from the file's size (1 s per GiB plus 2 s to start
   * a worker), less what a loading worker has done; null when it cannot load anywhere.
   */
  estimatedWaitSeconds: number | null;
  /** Hives that have it in their catalog or run a worker of it. */
  hives: string[];
}

/** `queueWaitMs`: how long the requests waiting for a loaded model now take to be placed (the dispatcher's drainMs). */
export function modelStates(
  hives: HiveFacts[],
  workers: LiveWorker[],
  firstSeenMs: (model: string) => number | undefined,
  nowMs: number,
  queueWaitMs: (model: string) => number = () => 0,
  policyOf: (model: string) => ModelPolicy | undefined = () => undefined,
  /** Models a policy's source names: listed though no hive has them yet. */
  sourcedModels: Iterable<string> = [],
): ModelStateView[] {
  const names = new Set<string>(sourcedModels);
  for (const facts of hives) for (const model of facts.models) names.add(model.name);
  for (const worker of workers) if (isServingState(worker.state) || worker.state === "loading") names.add(worker.model);
  return [...names].sort().map((name) => modelState(name, hives, workers, firstSeenMs(name) ?? policyOf(name)?.updatedAtMs ?? nowMs, queueWaitMs, policyOf(name)));
}

function modelState(name: string, hives: HiveFacts[], workers: LiveWorker[], firstSeenMs: number, queueWaitMs: (model: string) => number, policy: ModelPolicy | undefined): ModelStateView {
  const own = workers.filter((worker) => worker.model === name);
  const hiveNames = new Set(own.map((worker) => worker.hiveName));
  let sizeBytes: number | undefined;
  for (const facts of hives) {
    const model = facts.models.find((candidate) => candidate.name === name);
    if (!model) continue;
    hiveNames.add(facts.hiveName);
    sizeBytes = Math.min(sizeBytes ?? model.sizeBytes, model.sizeBytes);
  }
  const base = { id: name, created: Math.floor(firstSeenMs / 1000), hives: [...hiveNames].sort() };
  if (own.some((worker) => isServingState(worker.state))) return { ...base, state: "loaded", estimatedWaitSeconds: Math.ceil(queueWaitMs(name) / 1000) };
  const loading = own.filter((worker) => worker.state === "loading");
  if (loading.length > 0) {
    const progress = Math.max(...loading.map((worker) => worker.loadProgress ?? 0));
    return { ...base, state: "loading", estimatedWaitSeconds: Math.ceil(estimatedLoadSeconds(sizeBytes ?? 0) * (1 - progress)) };
  }
  // Only a policy's source has it: a request downloads it first, to a size known only then.
  if (sizeBytes === undefined && policy?.source) {
    const allowed = policy.workerTypes;
    const offered = hives.some((facts) => allowed === null || facts.devices.workerTypes.some((type) => allowed.includes(type)));
    return { ...base, state: offered ? "loadable" : "unavailable", estimatedWaitSeconds: null };
  }
  // A request would be refused model_policy_unmet: not a model that loads.
  if (!offersAllowedDevice(name, hives, policy?.workerTypes)) return { ...base, state: "unavailable", estimatedWaitSeconds: null };
  if (fitsSomewhere(name, hives, workers)) return { ...base, state: "loadable", estimatedWaitSeconds: estimatedLoadSeconds(sizeBytes ?? 0) };
  return { ...base, state: "too_large", estimatedWaitSeconds: null };
}
