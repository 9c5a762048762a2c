// Registry is the one Durable Object that knows which hive runs which worker for which model.
// Workers exist here only through heartbeats: three missed intervals (checked by an alarm, not
// by polling) or their hive's socket closing, and they are gone. Route handlers ask it where
// to send a request; HiveSessions feed it heartbeats. Every worker it drops gets its stop time
// and reason in D1's worker_history.
import { DurableObject } from "cloudflare:workers";
import { and, eq, inArray, isNull, or } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import { queenConfig } from "../config.js";
import { workerHistory } from "../db/schema.js";
import { recordHiveModel } from "../hives/hive-models.js";
import type { LeaseEnd, LeaseOutcome, LeaseRequest, LiveWorker } from "../scheduling/contracts.js";
import { Dispatcher, noWorkerRefusal, type Refusal } from "../scheduling/dispatcher.js";
import { canServe, toWorkerView, WorkerRecord, type WorkerView } from "./worker-record.js";
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import { HiveFactsTable } from "../scheduling/hive-facts.js";
import { modelStates, type ModelStateView } from "../scheduling/model-catalog-view.js";

/** Missed heartbeat intervals after which a worker is considered gone. */
export const MISSED_HEARTBEATS_LIMIT = 3;

const WORKER_KEY_PREFIX = "worker:";
const SEEN_MODEL_KEY_PREFIX = "seen-model:";
/** What each online hive last said it can run; kept in storage too, so an evicted Registry still knows. */
const HIVE_FACTS_KEY_PREFIX = "hive-facts:";

/** Why the registry dropped a worker, as worker_history.stop_reason records it. */
export type StopReason = "deleted" | "heartbeats_missed" | "hive_offline" | "stopped";

export type HeartbeatOutcome = { accepted: true } | { accepted: false; code: string; message: string };

export type Placement =
  | { ok: true; hiveName: string; workerId: string; port: number }
  | { ok: false; code: "model_not_found" | "no_worker_available"; message: string };

export interface ModelView {
  id: string;
  workers: number;
  /** When a worker first served this model, in Unix seconds (OpenAI's `created`). */
  created: number;
}

export class Registry extends DurableObject<Env> {
  private readonly workers = new Map<string, WorkerRecord>();
  /** Every model a worker ever served, with when it was first seen (ms). */
  private readonly seenModels = new Map<string, number>();
  /** Each online hive's devices and catalog models, for auto-spawn and /v1/models. */
  private readonly hiveFactsTable = new HiveFactsTable();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Rebuild memory from storage before the first call: the object may have been evicted.
    void ctx.blockConcurrencyWhile(() => this.load());
  }

  async heartbeat(hiveName: string, heartbeat: WorkerHeartbeat): Promise<HeartbeatOutcome> {
    const known = this.workers.get(heartbeat.workerId);
    if (known && known.hiveName !== hiveName) {
      console.warn(`refused heartbeat for ${heartbeat.workerId} from hive ${hiveName}: it belongs to ${known.hiveName}`);
      return { accepted: false, code: "worker_not_yours", message: `worker ${heartbeat.workerId} belongs to another hive` };
    }
    if (heartbeat.state === "stopped") {
      await this.forget([heartbeat.workerId], "stopped");
      return { accepted: true };
    }
    const record: WorkerRecord = { hiveName, heartbeat, lastSeenAtMs: Date.now() };
    if (!known) await this.noteHiveModel(hiveName, heartbeat.model, record.lastSeenAtMs);
    this.workers.set(heartbeat.workerId, record);
    this.scheduler().onWorkerChange({ kind: "upsert", worker: toLiveWorker(record) });
    await this.ctx.storage.put(WORKER_KEY_PREFIX + heartbeat.workerId, record);
    if (!this.seenModels.has(heartbeat.model)) {
      this.seenModels.set(heartbeat.model, record.lastSeenAtMs);
      await this.ctx.storage.put(SEEN_MODEL_KEY_PREFIX + heartbeat.model, record.lastSeenAtMs);
    }
    await this.scheduleExpiry();
    return { accepted: true };
  }

  /** What a hive said it can run (its hello, each hive_status): replaces what it said before. */
  async hiveFacts(hiveName: string, facts: { devices: HiveDevices; models: CatalogModel[] }): Promise<void> {
    this.hiveFactsTable.set(hiveName, facts);
    await this.ctx.storage.put(HIVE_FACTS_KEY_PREFIX + hiveName, this.hiveFactsTable.get(hiveName));
  }

  /** Every model an online hive can load or a worker serves, with its state (GET /v1/models). */
  async modelStates(): Promise<ModelStateView[]> {
    const workers = [...this.workers.values()].map(toLiveWorker);
    return modelStates(this.hiveFactsTable.all(), workers, (model) => this.seenModels.get(model), Date.now());
  }

  /** A hive's socket closed: every worker it spoke for is unreachable now. */
  async hiveOffline(hiveName: string): Promise<number> {
    this.hiveFactsTable.gone(hiveName);
    await this.ctx.storage.delete(HIVE_FACTS_KEY_PREFIX + hiveName);
    const gone = [...this.workers.values()].filter((record) => record.hiveName === hiveName);
    await this.forget(gone.map((record) => record.heartbeat.workerId), "hive_offline");
    return gone.length;
  }

  /** A worker the queen stopped on purpose: gone now, not after three missed heartbeats. */
  async dropWorker(workerId: string, reason: "deleted"): Promise<void> {
    await this.forget([workerId], reason);
    // A deleted worker drains on SIGTERM and heartbeats "stopped" itself, which usually lands
    // before the delete job's end: the stop was still a deletion, so say so.
    await this.recordStops([workerId], reason, "stopped");
  }

  /** The least-loaded worker that can serve `model` now, or why there is none. */
  async place(model: string): Promise<Placement> {
    const candidates = [...this.workers.values()].filter(
      (record) => record.heartbeat.model === model && canServe(record),
    );
    candidates.sort((a, b) => a.heartbeat.slotsBusy - b.heartbeat.slotsBusy);
    const best = candidates[0];
    if (best) return { ok: true, hiveName: best.hiveName, workerId: best.heartbeat.workerId, port: best.heartbeat.port };
    if (this.seenModels.has(model)) {
      return { ok: false, code: "no_worker_available", message: `No worker is ready to serve model '${model}' right now.` };
    }
    return { ok: false, code: "model_not_found", message: `The model '${model}' does not exist or no worker serves it.` };
  }

  /** Models that at least one worker can serve now. */
  async listModels(): Promise<ModelView[]> {
    const counts = new Map<string, number>();
    for (const record of this.workers.values()) {
      if (canServe(record)) counts.set(record.heartbeat.model, (counts.get(record.heartbeat.model) ?? 0) + 1);
    }
    return [...counts]
      .map(([id, workers]) => ({ id, workers, created: Math.floor((this.seenModels.get(id) ?? Date.now()) / 1000) }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Every known worker, or only those of `hiveName`. */
  async listWorkers(hiveName?: string): Promise<WorkerView[]> {
    const records = [...this.workers.values()].filter((record) => hiveName === undefined || record.hiveName === hiveName);
    return records.map(toWorkerView);
  }

  async getWorker(workerId: string): Promise<WorkerView | undefined> {
    const record = this.workers.get(workerId);
    return record ? toWorkerView(record) : undefined;
  }

  // --- The scheduler: the queue in the queen, leases and placement (scheduling/dispatcher.ts). ---
  private dispatcher: Dispatcher | undefined;

  /** Leases a worker for a request: at once, once one frees within its deadline, or a refusal. */
  async acquire(request: LeaseRequest): Promise<LeaseOutcome> {
    return this.scheduler().acquire(request);
  }

  /** The relay holding `leaseId` ended; `worker_failed` passes that worker over for a while. */
  async release(leaseId: string, end: LeaseEnd): Promise<void> {
    this.scheduler().release(leaseId, end);
  }

  /** The client of a queued request went away: it leaves the queue. */
  async abandon(requestId: string): Promise<void> {
    this.scheduler().abandon(requestId);
  }

  /**
   * A model has no worker serving or loading. The auto-spawner answers "spawning" here once it
   * has started (or joined) a worker_spawn job; until then the request is refused with `why`.
   */
  private onNoWorker(_model: string, why: string): "spawning" | Refusal {
    return noWorkerRefusal(why);
  }

  /** Made on first use: the queen's config is read from env, and a bad one throws to the caller. */
  private scheduler(): Dispatcher {
    this.dispatcher ??= new Dispatcher({
      maxQueuePerModel: queenConfig(this.env).queueMaxPerModel,
      onNoWorker: (model, why) => this.onNoWorker(model, why),
      source: {
        workersOf: (model) => [...this.workers.values()].filter((record) => record.heartbeat.model === model).map(toLiveWorker),
        knowsModel: (model) => this.seenModels.has(model),
      },
    });
    return this.dispatcher;
  }

  override async alarm(): Promise<void> {
    const deadlineAgeMs = this.expiryAgeMs();
    const now = Date.now();
    const expired = [...this.workers.values()].filter((record) => now - record.lastSeenAtMs >= deadlineAgeMs);
    for (const record of expired) {
      console.warn(`worker ${record.heartbeat.workerId} on hive ${record.hiveName} missed ${MISSED_HEARTBEATS_LIMIT} heartbeats: dropped`);
    }
    await this.forget(expired.map((record) => record.heartbeat.workerId), "heartbeats_missed");
    await this.scheduleExpiry();
  }

  private expiryAgeMs(): number {
    return queenConfig(this.env).heartbeatIntervalMs * MISSED_HEARTBEATS_LIMIT;
  }

  /** Keeps one alarm at the earliest moment a worker could expire (none when none are known). */
  private async scheduleExpiry(): Promise<void> {
    let earliest = Number.POSITIVE_INFINITY;
    for (const record of this.workers.values()) earliest = Math.min(earliest, record.lastSeenAtMs);
    if (earliest === Number.POSITIVE_INFINITY) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const due = earliest + this.expiryAgeMs();
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > due || current < Date.now()) await this.ctx.storage.setAlarm(due);
  }

  private async forget(workerIds: string[], reason: StopReason): Promise<void> {
    const known = workerIds.filter((id) => this.workers.has(id));
    if (known.length === 0) return;
    const now = Date.now();
    for (const id of known) {
      const record = this.workers.get(id);
      if (record) await this.noteHiveModel(record.hiveName, record.heartbeat.model, now);
      this.workers.delete(id);
      if (record) this.scheduler().onWorkerChange({ kind: "gone", workerId: id, model: record.heartbeat.model, hiveName: record.hiveName }, reason);
    }
    // storage.delete takes at most 128 keys per call; D1 binds at most 100 parameters.
    for (let start = 0; start < known.length; start += 90) {
      const batch = known.slice(start, start + 90);
      await this.ctx.storage.delete(batch.map((id) => WORKER_KEY_PREFIX + id));
      await this.recordStops(batch, reason);
    }
  }

  /** Which models a hive served is bookkeeping too: a D1 hiccup must not refuse a heartbeat. */
  private async noteHiveModel(hiveName: string, model: string, atMs: number): Promise<void> {
    try {
      await recordHiveModel(this.env.DB, hiveName, model, atMs);
    } catch (error) {
      console.error(`could not record model ${model} of hive ${hiveName}`, error);
    }
  }

  /** History is bookkeeping: a D1 hiccup must not keep a dead worker in the live registry. */
  private async recordStops(workerIds: string[], reason: StopReason, overriding?: StopReason): Promise<void> {
    const open = isNull(workerHistory.stoppedAt);
    try {
      await drizzle(this.env.DB)
        .update(workerHistory)
        .set({ stoppedAt: new Date(), stopReason: reason })
        .where(and(inArray(workerHistory.id, workerIds), overriding ? or(open, eq(workerHistory.stopReason, overriding)) : open));
    } catch (error) {
      console.error(`could not record the stop of ${workerIds.length} worker(s) in worker_history`, error);
    }
  }

  private async load(): Promise<void> {
    const stored = await this.ctx.storage.list({ prefix: WORKER_KEY_PREFIX });
    for (const [key, value] of stored) {
      const parsed = WorkerRecord.safeParse(value);
      if (parsed.success) this.workers.set(parsed.data.heartbeat.workerId, parsed.data);
      else await this.ctx.storage.delete(key); // written by an older, incompatible version
    }
    for (const [key, value] of await this.ctx.storage.list<{ devices: HiveDevices; models: CatalogModel[]; reportedAtMs: number }>({ prefix: HIVE_FACTS_KEY_PREFIX })) {
      this.hiveFactsTable.set(key.slice(HIVE_FACTS_KEY_PREFIX.length), value, value.reportedAtMs);
    }
    const seen = await this.ctx.storage.list({ prefix: SEEN_MODEL_KEY_PREFIX });
    for (const [key, firstSeenMs] of seen) {
      this.seenModels.set(key.slice(SEEN_MODEL_KEY_PREFIX.length), typeof firstSeenMs === "number" ? firstSeenMs : Date.now());
    }
  }
}

/** The registry's record as the scheduler's LiveWorker (scheduling/contracts.ts). */
function toLiveWorker(record: WorkerRecord): LiveWorker {
  const { pid: _pid, slotsBusy: _busy, queueLength: _queued, ...worker } = record.heartbeat;
  return { ...worker, hiveName: record.hiveName, lastSeenAtMs: record.lastSeenAtMs };
}
