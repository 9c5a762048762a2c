// The dashboard's picture of the fleet: every registered hive (online or not, with its machine
// and memory), every live worker, and every model with where it is cached and where it is loaded.
// Live state comes from the Registry (three RPCs), the list of hives and what an offline hive
// last said about its machine from D1.
import type { DashboardHive, DashboardModel, DashboardWorker } from "../../shared/dashboard/dashboard-snapshot.js";
import { publicDevices } from "../../shared/protocol/hive-devices.js";
import { isServingState } from "../../shared/protocol/worker-heartbeat.js";
import type { HiveRecord } from "../db/schema.js";
import { listHives } from "../hives/hive-records.js";
import type { WorkerView } from "../registry/worker-record.js";
import { registryStub } from "../registry/stub.js";
import { capabilitiesView } from "../routes/hives.js";
import type { HiveFacts } from "../scheduling/hive-facts.js";
import type { ModelStateView } from "../scheduling/model-catalog-view.js";

export interface DashboardFleet {
  hives: DashboardHive[];
  workers: DashboardWorker[];
  models: DashboardModel[];
  queued: number;
}

export async function dashboardFleet(env: Env): Promise<DashboardFleet> {
  const registry = registryStub(env);
  const [records, fleet, workers, models, stats] = await Promise.all([listHives(env.DB), registry.fleet(), registry.listWorkers(), registry.modelStates(), registry.stats()]);
  const online = new Set(fleet.onlineHives);
  return {
    hives: records.map((record) => hiveView(record, online.has(record.name), fleet.facts.find((facts) => facts.hiveName === record.name))),
    workers: workers.map(workerView),
    models: models.map((model) => modelView(model, fleet.facts, workers)),
    queued: stats.queued,
  };
}

/** An online hive's devices as it last reported them to the Registry; otherwise what D1 kept. */
function hiveView(record: HiveRecord, online: boolean, facts: HiveFacts | undefined): DashboardHive {
  const devices = facts ? publicDevices(facts.devices) : capabilitiesView(record.capabilities).devices;
  return {
    name: record.name,
    online,
    last_seen_at: record.lastSeenAt?.toISOString() ?? null,
    token_revoked: record.tokenRevokedAt !== null,
    machine: devices && { os: devices.os, arch: devices.arch, cpu: devices.cpu, ram_total_bytes: devices.ram_total_bytes, ram_free_bytes: devices.ram_free_bytes, gpus: devices.gpus },
  };
}

function workerView(worker: WorkerView): DashboardWorker {
  return {
    id: worker.id,
    hive: worker.hive,
    model: worker.model,
    state: worker.state as DashboardWorker["state"],
    device: worker.device as DashboardWorker["device"],
    slots_busy: worker.slots_busy,
    slots_total: worker.slots_total,
    tokens_per_second: worker.tokens_per_second,
    memory_rss_bytes: worker.memory_rss_bytes,
    memory_vram_bytes: worker.memory_vram_bytes,
    load_progress: worker.load_progress ?? null,
  };
}

function modelView(model: ModelStateView, facts: readonly HiveFacts[], workers: readonly WorkerView[]): DashboardModel {
  const loadedOn = new Set(workers.filter((worker) => worker.model === model.id && isServingState(worker.state)).map((worker) => worker.hive));
  return {
    id: model.id,
    state: model.state,
    cached_on: facts.filter((hive) => hive.models.some((cached) => cached.name === model.id)).map((hive) => hive.hiveName),
    loaded_on: [...loadedOn].sort(),
  };
}
