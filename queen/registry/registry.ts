// Registry is the one Durable Object that knows which hive runs which worker for which model, so
// route handlers (and the dispatcher) can place requests. It never hears heartbeats: each hive's
// HiveSession keeps its own workers' liveness and reports only changes (and a slow refresh of
// figures), so 2,000 hives cost this object a few calls a second. The table is memory only: after
// a restart it is empty until hives report again, and a change from a hive it holds nothing of is
// answered `snapshot_needed`, so that hive's session sends everything it has. Which hives are
// online is stored (written when one comes or goes): a Registry woken from eviction asks them,
// and its views of the table wait for their answers.
import { DurableObject } from "cloudflare:workers";
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import { queenConfig } from "../config.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import type { LeaseEnd, LeaseOutcome, LeaseRequest } from "../scheduling/contracts.js";
import { type HiveFacts, HiveFactsTable } from "../scheduling/hive-facts.js";
import { modelStates, type ModelStateView } from "../scheduling/model-catalog-view.js";
import type { ModelPolicy } from "../scheduling/model-policy.js";
import type { ReturningWorker } from "../scheduling/returning-workers.js";
import { Scheduler } from "../scheduling/scheduler.js";
import { withinMs } from "../../shared/within.js";
import { IdleRecords } from "./idle-records.js";
import { loadPolicies } from "./policy-records.js";
import { recordStops } from "./worker-bookkeeping.js";
import { toWorkerView, type WorkerView } from "./worker-record.js";
import type { HiveReport, RegistryStats, ReportOutcome } from "./worker-report.js";
import { WorkerTable } from "./worker-table.js";

const SEEN_MODEL_KEY_PREFIX = "seen-model:";
/**
 * Models first seen only in a hive's catalog that the Registry remembers at most. Every name is a
 * key kept for good and read on each start: a hive reporting new names in every hive_status must
 * not grow that without end. Past it a catalog model is listed still, with no first sighting kept;
 * a model a worker serves (one of a few the queen issued) is always remembered.
 */
export const MAX_SEEN_CATALOG_MODELS = 4096;
/** Hives online as far as this Registry knows, written when one comes or goes (never per report). */
const ONLINE_HIVE_KEY_PREFIX = "online-hive:";
/** What each online hive last said it can run; kept in storage too, so an evicted Registry still knows. */
const HIVE_FACTS_KEY_PREFIX = "hive-facts:";
/** Where an older version kept every worker's last heartbeat; cleared on start. */
const OLD_WORKER_KEY_PREFIX = "worker:";
/**
 * Longest a lease or a view of the table (the worker list, one worker, the models, the fleet)
 * waits after a wake for the online hives' snapshots, ms: long enough for a few hundred hives,
 * short enough that one slow hive does not hold up a request or an operator's page.
 */
const RECALL_WAIT_MS = 5_000;
/** Hives asked for their snapshots at a time after a wake: each answer is a call back here. */
const RECALL_CONCURRENCY = 16;

export class Registry extends DurableObject<Env> {
  readonly table = new WorkerTable();
  /** Hives whose session sent a snapshot and has not gone offline since: only their workers are placed. */
  private readonly onlineHives = new Set<string>();
  /** Every model a worker ever served or a hive's catalog held, with when it was first seen (ms; OpenAI's `created`); stored once per model. */
  private readonly seenModels = new Map<string, number>();
  private reports = 0;
  /** Reports per online hive since it came online, for operators and tests. */
  private readonly reportsByHive = new Map<string, number>();
  /** Each online hive's devices and catalog models, for auto-spawn and /v1/models. */
  private readonly hiveFactsTable = new HiveFactsTable();
  /** Each model's admin policy (D1 model_policies), loaded when this object starts, kept current by policyChanged. */
  private readonly policies = new Map<string, ModelPolicy>();
  /** The queue, leases, auto-spawn and idle unload (scheduling/scheduler.ts); made on first use. */
  private scheduling: Scheduler | undefined;
  /** Woken from eviction: the snapshots asked of the hives that were online, until they are in. */
  private recalling: Promise<void> | undefined;
  /** Each worker's last request end and keep-alive, stored for the idle reaper of a later instance. */
  private readonly idle: IdleRecords;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.idle = new IdleRecords(ctx.storage);
    void ctx.blockConcurrencyWhile(() => this.load());
  }

  /** A HiveSession's changes to its workers; see HiveReport. */
  async report(hiveName: string, report: HiveReport): Promise<ReportOutcome> {
    this.reports += 1;
    this.reportsByHive.set(hiveName, (this.reportsByHive.get(hiveName) ?? 0) + 1);
    if (report.snapshot) {
      if (!this.onlineHives.has(hiveName)) await this.ctx.storage.put(ONLINE_HIVE_KEY_PREFIX + hiveName, true);
      this.onlineHives.add(hiveName);
    } else if (!this.onlineHives.has(hiveName)) return { ok: false, code: "snapshot_needed" };
    for (const { heartbeat, lastSeenAtMs } of report.upserts) {
      const owner = this.table.get(heartbeat.workerId)?.hiveName;
      if (owner !== undefined && owner !== hiveName) {
        // HiveSessions only report ids the queen issued to their hive: this is a bug, not an attack.
        console.error(`hive ${hiveName} reported worker ${heartbeat.workerId}, which belongs to hive ${owner}; ignored`);
        continue;
      }
      this.table.upsert({ hiveName, heartbeat, lastSeenAtMs });
      await this.modelSeen(heartbeat.model, lastSeenAtMs);
    }
    for (const { workerId, reason } of report.gone) {
      if (this.table.get(workerId)?.hiveName === hiveName) this.table.remove(workerId, reason);
    }
    return { ok: true };
  }

  /**
   * What a hive said it can run (its hello, each hive_status): replaces what it said before. A
   * hello also names `returning`: workers it still runs that have not beaten since, which the
   * scheduler waits for rather than spawning their models again.
   */
  async hiveFacts(hiveName: string, facts: { devices: HiveDevices; models: CatalogModel[] }, returning?: ReturningWorker[]): Promise<void> {
    this.hiveFactsTable.set(hiveName, facts);
    await this.ctx.storage.put(HIVE_FACTS_KEY_PREFIX + hiveName, this.hiveFactsTable.get(hiveName));
    const now = Date.now();
    await this.catalogModelsSeen(facts.models, now);
    const plan = (): void => {
      const scheduler = this.scheduler();
      if (returning !== undefined) scheduler.hiveHello(hiveName, returning);
      scheduler.reconsider();
    };
    if (this.recalling === undefined) return plan();
    // Woken from eviction (a hive's minutely hive_status often is what wakes it), some hives'
    // snapshots are not in yet: a plan made now, or on the next snapshot in, would start a
    // min_workers worker that a hive still to report already runs. Not awaited: the recall asks
    // every online hive's session, this caller's too, which is waiting on this call.
    void this.recalled()
      .then(plan)
      .catch((error: unknown) => console.error(`could not plan after hive ${hiveName}'s facts`, error));
  }

  /** Records the first sighting of each new model of a catalog, up to the bound, in writes of many keys. */
  private async catalogModelsSeen(models: readonly CatalogModel[], atMs: number): Promise<void> {
    const fresh: Record<string, number> = {};
    for (const { name } of models) {
      if (this.seenModels.size >= MAX_SEEN_CATALOG_MODELS) break;
      if (this.seenModels.has(name)) continue;
      this.seenModels.set(name, atMs);
      fresh[SEEN_MODEL_KEY_PREFIX + name] = atMs;
    }
    const keys = Object.keys(fresh);
    // A put takes at most 128 keys.
    for (let start = 0; start < keys.length; start += 128) {
      await this.ctx.storage.put(Object.fromEntries(keys.slice(start, start + 128).map((key) => [key, fresh[key]])));
    }
  }

  private async modelSeen(model: string, atMs: number): Promise<void> {
    if (this.seenModels.has(model)) return;
    this.seenModels.set(model, atMs);
    await this.ctx.storage.put(SEEN_MODEL_KEY_PREFIX + model, atMs);
  }

  /** An admin set (`policy`) or removed (null) a model's policy in D1: it applies from now on. */
  async policyChanged(model: string, policy: ModelPolicy | null): Promise<void> {
    // Its min_workers are counted against the table: not against the empty one of a wake.
    await this.recalled();
    if (policy === null) this.policies.delete(model);
    else this.policies.set(model, policy);
    this.scheduler().policyChanged(model);
    await this.scheduleIdleCheck();
  }

  /**
   * Every model an online hive can load or a worker serves, with its state (GET /v1/models); with
   * `hiveName`, as that hive alone sees them (GET /v1/models/name@hive).
   */
  async modelStates(hiveName?: string): Promise<ModelStateView[]> {
    await this.recalled();
    const onHive = (name: string) => this.onlineHives.has(name) && (hiveName === undefined || name === hiveName);
    const workers = this.table.all().filter((worker) => onHive(worker.hiveName));
    const hives = this.onlineHiveFacts().filter((facts) => onHive(facts.hiveName));
    // A policy's source downloads onto whichever hive fits: not a model of one hive before it is there.
    const sourced = hiveName === undefined ? [...this.policies.values()].filter((policy) => policy.source !== null).map((policy) => policy.model) : [];
    return modelStates(hives, workers, (model) => this.seenModels.get(model), Date.now(), (model) => this.scheduler().queueWaitMs(model), (model) => this.policies.get(model), sourced);
  }

  /** Which hives are online now, and what each last said about its devices and catalog (the dashboard). */
  async fleet(): Promise<{ onlineHives: string[]; facts: HiveFacts[] }> {
    await this.recalled();
    return { onlineHives: [...this.onlineHives].sort(), facts: this.onlineHiveFacts() };
  }

  /** Leases a worker for a request: at once, once one frees (or is spawned) within its deadline, or a refusal. */
  async acquire(request: LeaseRequest): Promise<LeaseOutcome> {
    // Woken from eviction, the table is empty and no hive counts as online until its snapshot is
    // in: the request would be refused (no worker, no hive to start one on) for a worker running.
    await this.recalled();
    return this.scheduler().acquire(request);
  }

  /** The relay holding `leaseId` ended; `worker_failed` passes that worker over for a while, `relay_lost` does not. */
  async release(leaseId: string, end: LeaseEnd): Promise<void> {
    await this.recalled();
    this.scheduler().release(leaseId, end);
    await this.scheduleIdleCheck();
  }

  /** The client of a queued request went away: it leaves the queue. */
  async abandon(requestId: string): Promise<void> {
    await this.recalled();
    this.scheduler().abandon(requestId);
  }

  /** A hive's socket closed: every worker it spoke for is unreachable now, and none is placed until it reports again. */
  async hiveOffline(hiveName: string): Promise<number> {
    if (this.onlineHives.delete(hiveName)) await this.ctx.storage.delete(ONLINE_HIVE_KEY_PREFIX + hiveName);
    this.reportsByHive.delete(hiveName);
    this.hiveFactsTable.gone(hiveName);
    await this.ctx.storage.delete(HIVE_FACTS_KEY_PREFIX + hiveName);
    const gone = this.table.byHive(hiveName);
    for (const worker of gone) this.table.remove(worker.workerId, "hive_offline");
    this.scheduler().hiveOffline(hiveName);
    return gone.length;
  }

  /** A worker the queen stopped on purpose: gone now, not after three missed heartbeats. */
  async dropWorker(workerId: string, reason: "deleted"): Promise<void> {
    this.table.remove(workerId, reason);
    // A deleted worker drains on SIGTERM and heartbeats "stopped" itself, which usually lands
    // before the delete job's end: the stop was still a deletion, so say so.
    await recordStops(this.env.DB, [workerId], reason, "stopped");
  }

  /** Every known worker, or only those of `hiveName`. */
  async listWorkers(hiveName?: string): Promise<WorkerView[]> {
    await this.recalled();
    const scheduler = this.scheduler();
    return this.table.records(hiveName).map((record) => toWorkerView(record, scheduler.schedulingOf(record.heartbeat.workerId)));
  }

  async getWorker(workerId: string): Promise<WorkerView | undefined> {
    await this.recalled();
    const record = this.table.record(workerId);
    return record ? toWorkerView(record, this.scheduler().schedulingOf(workerId)) : undefined;
  }

  /** What this Registry holds; `reports` counts only `hiveName`'s when given. */
  async stats(hiveName?: string): Promise<RegistryStats> {
    await this.recalled();
    const reports = hiveName === undefined ? this.reports : (this.reportsByHive.get(hiveName) ?? 0);
    return { hives: this.onlineHives.size, workers: this.table.size, reports, queued: this.scheduler().queued() };
  }

  /** Requests waiting in the queen's queue now, per model (GET /metrics). */
  async queueDepths(): Promise<Record<string, number>> {
    await this.recalled();
    return this.scheduler().queuedByModel();
  }

  /** Idle unload: stops the workers idle past their keep-alive, then waits for the next one. */
  override async alarm(): Promise<void> {
    // An alarm often wakes an evicted object: judge the workers once the hives have listed them.
    await this.recalled();
    this.scheduler().stopIdleWorkers();
    await this.scheduleIdleCheck();
  }

  /** Keeps the alarm at the moment the next worker becomes idle past its keep-alive (none when none will). */
  private async scheduleIdleCheck(): Promise<void> {
    const due = this.scheduler().nextIdleCheckAtMs();
    if (due === undefined) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > due || current < Date.now()) await this.ctx.storage.setAlarm(Math.max(due, Date.now()));
  }

  /**
   * Made on first use: the queen's config is read from env, and a bad one throws to the caller.
   * Every caller waits for a wake's recall first (hiveFacts defers its plan instead): a scheduler
   * made meanwhile would plan on each snapshot as it came in, against a half-filled table.
   */
  private scheduler(): Scheduler {
    if (this.scheduling) return this.scheduling;
    this.scheduling = new Scheduler({
      env: this.env,
      config: queenConfig(this.env),
      table: this.table,
      isHiveOnline: (hiveName) => this.onlineHives.has(hiveName),
      hives: () => this.onlineHiveFacts(),
      knowsModel: (model) => this.seenModels.has(model),
      policyOf: (model) => this.policies.get(model),
      policies: () => [...this.policies.values()],
      pidOf: (workerId) => this.table.record(workerId)?.heartbeat.pid,
      onIdleCheckDue: () => void this.scheduleIdleCheck(),
      idle: this.idle,
    });
    // The scheduler claims the idle records of the workers in the table, and of those the wake's
    // snapshots bring later; once both are in, what is left belongs to workers gone meanwhile.
    if (!this.recalling) this.forgetUnclaimedIdle();
    return this.scheduling;
  }

  /** Drops the idle records of workers that did not come back with the wake's snapshots and are not expected back. */
  private forgetUnclaimedIdle(): void {
    this.idle.forgetUnclaimed((workerId) => this.scheduling?.isExpectedBack(workerId) ?? false);
  }

  /**
   * Waits, at most RECALL_WAIT_MS, for the snapshots a wake asked for, so that a view of the table
   * never answers from the empty one an eviction leaves, nor a lease is refused by it: an idle
   * hive may have nothing to report for as long as it stays idle.
   */
  private async recalled(): Promise<void> {
    if (this.recalling === undefined) return;
    await withinMs(this.recalling, RECALL_WAIT_MS);
  }

  private async recallHives(hiveNames: string[]): Promise<void> {
    for (let start = 0; start < hiveNames.length; start += RECALL_CONCURRENCY) {
      await Promise.all(hiveNames.slice(start, start + RECALL_CONCURRENCY).map((hiveName) => this.recallHive(hiveName)));
    }
  }

  private async recallHive(hiveName: string): Promise<void> {
    try {
      const resync = await hiveSessionStub(this.env, hiveName).resyncRegistry();
      if (resync.connected || this.onlineHives.has(hiveName)) return;
      await this.ctx.storage.delete(ONLINE_HIVE_KEY_PREFIX + hiveName);
      // Online when this Registry last heard, away now: the queen restarted under it (a deploy, a
      // local workerd that died), and the hive reconnects within seconds with its workers. A request
      // for their models waits for them meanwhile, as for a hive whose socket just dropped, rather
      // than being told the model does not exist.
      if (resync.workers.length > 0) this.scheduler().expectBack(hiveName, resync.workers);
    } catch (error) {
      console.error(`could not ask hive ${hiveName} for its workers`, error);
    }
  }

  /**
   * Facts of the hives that reported since this Registry started. Those read back from storage
   * wait for their hive's snapshot: after a queen restart its hive may not be back (yet), and a
   * model listed or planned on it would only earn the client a 503 hive_offline.
   */
  private onlineHiveFacts(): HiveFacts[] {
    return this.hiveFactsTable.all().filter((facts) => this.onlineHives.has(facts.hiveName));
  }

  private async load(): Promise<void> {
    try {
      for (const policy of await loadPolicies(this.env.DB)) this.policies.set(policy.model, policy);
    } catch (error) {
      // Scheduling without policies beats not scheduling: the next change to one is still heard.
      console.error("could not load model policies from D1; scheduling without them until one is set", error);
    }
    for (const [key, value] of await this.ctx.storage.list<{ devices: HiveDevices; models: CatalogModel[]; reportedAtMs: number }>({ prefix: HIVE_FACTS_KEY_PREFIX })) {
      this.hiveFactsTable.set(key.slice(HIVE_FACTS_KEY_PREFIX.length), value, value.reportedAtMs);
    }
    const seen = await this.ctx.storage.list({ prefix: SEEN_MODEL_KEY_PREFIX });
    for (const [key, firstSeenMs] of seen) {
      this.seenModels.set(key.slice(SEEN_MODEL_KEY_PREFIX.length), typeof firstSeenMs === "number" ? firstSeenMs : Date.now());
    }
    // Evicted while hives were online: their sessions hold their workers, and an idle hive may
    // have no change to report for a long time. Ask each for a snapshot. Not awaited here: each
    // answer is a report to this object, which waits for this start to end.
    await this.idle.load();
    const online = [...(await this.ctx.storage.list({ prefix: ONLINE_HIVE_KEY_PREFIX })).keys()];
    if (online.length > 0) {
      this.recalling = this.recallHives(online.map((key) => key.slice(ONLINE_HIVE_KEY_PREFIX.length))).finally(() => {
        this.recalling = undefined;
        if (this.scheduling) this.forgetUnclaimedIdle();
      });
    }
    // storage.delete takes at most 128 keys per call.
    const old = [...(await this.ctx.storage.list({ prefix: OLD_WORKER_KEY_PREFIX, limit: 128 })).keys()];
    if (old.length > 0) await this.ctx.storage.delete(old);
  }
}
