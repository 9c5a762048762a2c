// The scheduler the Registry DO runs: the dispatcher (the per-model queue, leases, placement),
// the spawner (a worker for a model nobody serves, on the hive where it fits, making room by
// stopping idle workers of other models, or draining busy ones for a model whose requests starve)
// and the idle reaper (a worker unused past its keep-alive is stopped), wired to the live worker
// table. It also keeps what they share: how each worker is used (in flight, last active, loaded
// since), which workers are on their way out, which are never placed on again, and which hives a
// spawn should avoid for now (suspect-hives.ts).
import type { QueenConfig } from "../config.js";
import { RepeatedLines } from "../observability/repeated-lines.js";
import type { IdleRecord } from "../registry/idle-records.js";
import type { WorkerTable } from "../registry/worker-table.js";
import type { LeaseEnd, LeaseOutcome, LeaseRequest, LiveWorker, WorkerChange, WorkerScheduling } from "./contracts.js";
import { Dispatcher, hiveNotConnected, noWorkerRefusal, type Refusal, WORKER_FAILED_COOLDOWN_MS } from "./dispatcher.js";
import type { HiveFacts } from "./hive-facts.js";
import { IdleReaper } from "./idle-reaper.js";
import type { ModelPolicy } from "./model-policy.js";
import { isServing, leaseCapacity } from "./placement.js";
import { HIVE_RETURN_WAIT_MS, ReturningWorkers, type ReturningWorker } from "./returning-workers.js";
import { Spawner } from "./spawner.js";
import { hiveJobs, type SpawnerJobs, SwapAbandoned } from "./spawner-jobs.js";
import { SILENT_WORKER_SUSPECT_MS, SuspectHives } from "./suspect-hives.js";
import type { WorkerActivity } from "./swap-policy.js";
import { drainFor } from "./worker-drain.js";

/** Heartbeat intervals a worker listed in its hive's hello is waited for before a spawn may replace it. */
const RETURNING_WAIT_INTERVALS = 3;

export interface SchedulerDeps {
  env: Env;
  config: QueenConfig;
  table: WorkerTable;
  /** Only workers of connected hives are placed. */
  isHiveOnline: (hiveName: string) => boolean;
  /** The online hives' devices and catalogs. */
  hives: () => HiveFacts[];
  /** Whether a worker ever served `model` (a model never seen and in no catalog is a 404). */
  knowsModel: (model: string) => boolean;
  pidOf: (workerId: string) => number | undefined;
  /** The next idle check may have moved earlier: the Registry resets its alarm. */
  onIdleCheckDue: () => void;
  /** A model's admin policy, and every policy (for min_workers); none when not given. */
  policyOf?: (model: string) => ModelPolicy | undefined;
  policies?: () => ModelPolicy[];
  /** The jobs that start and stop workers; the real ones through `env` by default. */
  jobs?: SpawnerJobs;
  /** Where each worker's idleness outlives this object (registry/idle-records.ts); memory only when not given. */
  idle?: IdleMemory;
}

/** Each worker's last request end and keep-alive, kept where an evicted Registry finds them again. */
export interface IdleMemory {
  take(workerId: string): IdleRecord | undefined;
  record(workerId: string, record: IdleRecord): void;
  forget(workerId: string): void;
}

export class Scheduler {
  private readonly dispatcher: Dispatcher;
  private readonly spawner: Spawner;
  private readonly reaper: IdleReaper;
  private readonly returning: ReturningWorkers;
  private readonly jobs: SpawnerJobs;
  /**
   * Models whose requests wait for memory that busy workers hold, and since when: planned again on
   * every change, and starving (busy workers may be drained for them) SWAP_DRAIN_AFTER_SECONDS on.
   */
  private readonly awaitingRoom = new Map<string, number>();
  /** Hives whose worker just went silent or failed a request: a spawn goes elsewhere if it can. */
  private readonly suspects = new SuspectHives();
  /** Why no worker can be started, said once a while however many requests are refused for it. */
  private readonly repeatedLines = new RepeatedLines();
  /** Workers being stopped (idle, or to make room): never placed on again. */
  private readonly retiring = new Set<string>();
  private readonly residentSince = new Map<string, number>();
  private readonly lastActive = new Map<string, number>();
  /** Wakes the waiting-for-room models when the next worker's minimum residency ends, or the next of them starves. */
  private roomTimer: ReturnType<typeof setTimeout> | undefined;
  /** Lease id → the worker it is on and the keep-alive its request asked for. */
  private readonly leases = new Map<string, { workerId: string; keepAliveMs: number | undefined }>();

  private readonly policyOf: (model: string) => ModelPolicy | undefined;

  constructor(private readonly deps: SchedulerDeps) {
    const { config, table } = deps;
    this.policyOf = deps.policyOf ?? (() => undefined);
    this.jobs = deps.jobs ?? hiveJobs(deps.env, deps.pidOf);
    this.dispatcher = new Dispatcher({
      maxQueuePerModel: config.queueMaxPerModel,
      onNoWorker: (model, why, failedOn, hive) => this.onNoWorker(model, why, failedOn, hive),
      onBacklog: (model, hive) => this.onBacklog(model, hive),
      source: {
        workersOf: (model) => table.byModel(model).filter((worker) => this.placeable(worker)),
        knowsModel: (model) => deps.knowsModel(model) || Boolean(this.policyOf(model)?.source) || deps.hives().some((hive) => hive.models.some((each) => each.name === model)),
        // A hive whose workers are awaited (its socket dropped a moment ago, it restarts) counts as
        // there for `model@hive`: such a request waits for them as an unpinned one does.
        isHiveOnline: (hiveName) => deps.isHiveOnline(hiveName) || this.returning.isHiveAwaited(hiveName),
      },
    });
    this.spawner = new Spawner(
      { ...this.jobs, stop: (worker, forModel) => this.retire(worker, forModel) },
      {
        hives: deps.hives,
        workers: () => table.all(),
        activity: (worker) => this.activity(worker),
        queued: (model) => this.dispatcher.queued(model),
        policyOf: this.policyOf,
        suspectHives: () => this.suspects.current(Date.now()),
      },
      { swap: { minResidencyMs: config.swapMinResidencySeconds * 1000 }, onSettled: (model) => this.dispatcher.reconsider(model) },
    );
    this.reaper = new IdleReaper(config.keepAliveSeconds * 1000, this.policyOf);
    this.returning = new ReturningWorkers((model) => this.dispatcher.reconsider(model));
    table.subscribe((change) => this.onWorkerChange(change));
    // Made after a wake's snapshots came in: those workers are resident too.
    for (const worker of table.all()) if (worker.state === "ready") this.noteResident(worker.workerId);
  }

  async acquire(request: LeaseRequest): Promise<LeaseOutcome> {
    const outcome = await this.dispatcher.acquire(request);
    if (outcome.ok) this.leases.set(outcome.leaseId, { workerId: outcome.workerId, keepAliveMs: request.keepAliveMs });
    return outcome;
  }

  release(leaseId: string, end: LeaseEnd): void {
    const lease = this.leases.get(leaseId);
    this.leases.delete(leaseId);
    this.dispatcher.release(leaseId, end);
    if (!lease) return;
    const now = Date.now();
    this.lastActive.set(lease.workerId, now);
    this.reaper.requestEnded(lease.workerId, lease.keepAliveMs);
    const keepAliveMs = this.reaper.askedKeepAliveMs(lease.workerId);
    const residentSinceMs = this.residentSince.get(lease.workerId);
    this.deps.idle?.record(lease.workerId, {
      lastActiveAtMs: now,
      ...(keepAliveMs === undefined ? {} : { keepAliveMs }),
      ...(residentSinceMs === undefined ? {} : { residentSinceMs }),
    });
    this.reconsider();
  }

  /** `hiveName`'s socket is gone: requests pinned to it stop waiting (dispatcher.ts), unless its workers are awaited back. */
  hiveOffline(hiveName: string): void {
    this.dispatcher.hiveOffline(hiveName);
  }

  /** An admin changed `model`'s policy: its min_workers start, and waiting requests are planned again. */
  policyChanged(model: string): void {
    this.keepMinimum(this.policyOf(model), true);
    this.dispatcher.reconsider(model);
    this.reconsider();
  }

  abandon(requestId: string): void {
    this.dispatcher.abandon(requestId);
  }

  schedulingOf(workerId: string): WorkerScheduling {
    return this.dispatcher.schedulingOf(workerId);
  }

  /** Requests waiting in the queues, all models together. */
  queued(): number {
    return this.dispatcher.queued();
  }

  queuedByModel(): Record<string, number> {
    return this.dispatcher.queuedByModel();
  }

  /** How long the requests waiting for `model` now take to be placed, roughly, ms. */
  queueWaitMs(model: string): number {
    return this.dispatcher.drainMs(model);
  }

  /**
   * `hiveName` said hello listing `workers` it still runs that have not beaten since: requests
   * for their models wait for them (a few heartbeat intervals) rather than spawn a second copy.
   * A spawn it cancelled as it stopped before counts against it no more.
   */
  hiveHello(hiveName: string, workers: ReturningWorker[]): void {
    this.returning.listedInHello(hiveName, workers, Date.now() + this.deps.config.heartbeatIntervalMs * RETURNING_WAIT_INTERVALS);
    this.spawner.hiveHello(hiveName);
  }

  /**
   * `hiveName` is away but was serving `workers` when the queen last heard (the queen restarted
   * under it): requests for their models wait for them, as for a hive whose socket just dropped.
   */
  expectBack(hiveName: string, workers: ReturningWorker[]): void {
    this.returning.away(hiveName, workers, Date.now() + HIVE_RETURN_WAIT_MS);
  }

  /**
   * Something changed that may make room (a lease ended, a worker went, a hive reported free
   * memory): requests waiting for room are planned again.
   */
  reconsider(): void {
    for (const model of [...this.awaitingRoom.keys()]) {
      if (this.dispatcher.queued(model) === 0) {
        this.awaitingRoom.delete(model);
        continue;
      }
      const answer = this.spawner.request(model, undefined, { drainBusy: this.isStarving(model) });
      if (answer !== "spawning" && answer.retryable) continue;
      this.awaitingRoom.delete(model);
      this.dispatcher.reconsider(model); // a final refusal now answers them
    }
    for (const policy of this.deps.policies?.() ?? []) this.keepMinimum(policy, false);
    this.wakeWhenRoomMayOpen();
  }

  /** Whether `model`'s requests have waited for room past SWAP_DRAIN_AFTER_SECONDS (never when that is 0). */
  private isStarving(model: string): boolean {
    const startsAtMs = this.starvingFromMs(model);
    return startsAtMs !== undefined && startsAtMs <= Date.now();
  }

  /** When `model`'s requests starve: SWAP_DRAIN_AFTER_SECONDS after they began to wait for room (not yet: now). */
  private starvingFromMs(model: string): number | undefined {
    const drainAfterMs = this.deps.config.swapDrainAfterSeconds * 1000;
    if (drainAfterMs === 0) return undefined;
    return (this.awaitingRoom.get(model) ?? Date.now()) + drainAfterMs;
  }

  /** Starts a worker for a policy's model while it has fewer than min_workers (one spawn at a time). */
  private keepMinimum(policy: ModelPolicy | undefined, sayWhyNot: boolean): void {
    if (!policy || policy.minWorkers === 0 || this.spawner.isSpawning(policy.model) || this.returning.isAwaited(policy.model)) return;
    if (this.deps.table.byModel(policy.model).filter((worker) => this.placeable(worker)).length >= policy.minWorkers) return;
    const answer = this.spawner.request(policy.model);
    if (answer !== "spawning" && sayWhyNot) console.warn(`min_workers of '${policy.model}': no worker can be started now: ${answer.code}: ${answer.message}`);
  }

  /**
   * A model waiting for room may be waiting only for a loaded worker's minimum residency to pass
   * (SWAP_MIN_RESIDENCY_SECONDS), or for its own requests to starve (SWAP_DRAIN_AFTER_SECONDS): no
   * lease ends and no worker changes then, so nothing else would plan it again. Plans again the
   * moment the next of these comes.
   */
  private wakeWhenRoomMayOpen(): void {
    if (this.roomTimer !== undefined) clearTimeout(this.roomTimer);
    this.roomTimer = undefined;
    if (this.awaitingRoom.size === 0) return;
    const now = Date.now();
    const minResidencyMs = this.deps.config.swapMinResidencySeconds * 1000;
    const residencyEnds = [...this.residentSince.values()].map((since) => since + minResidencyMs);
    const starvations = [...this.awaitingRoom.keys()].map((model) => this.starvingFromMs(model) ?? now);
    const next = Math.min(...[...residencyEnds, ...starvations].filter((at) => at > now));
    if (next === Infinity) return;
    this.roomTimer = setTimeout(() => this.reconsider(), next - now);
  }

  /** Stops the workers idle past their keep-alive (the Registry's alarm calls this). */
  stopIdleWorkers(): void {
    for (const worker of this.reaper.due(this.idleCandidates(), this.idleContext())) {
      console.log(`idle unload: worker ${worker.workerId} ('${worker.model}' on hive ${worker.hiveName}) unused for ${Math.round(this.reaper.keepAliveMs(worker.workerId, worker.model) / 1000)} s`);
      void this.retire(worker);
    }
  }

  /** When the next worker becomes idle past its keep-alive, or undefined when none will on its own. */
  nextIdleCheckAtMs(): number | undefined {
    return this.reaper.nextDueAtMs(this.idleCandidates(), this.idleContext());
  }

  /**
   * A request of `model` waits behind its busy workers. Once the requests waiting fill a round of
   * every serving worker's slots, another worker starts where one fits beside what runs (a hive
   * or a GPU that runs none of the model, stopping nothing, within max_workers): a second machine
   * with the model in its catalog serves a crowd rather than sit idle. It waits its keep-alive
   * once the crowd is gone, as any worker does. Requests pinned to a hive (`model@hive`) are a
   * crowd of that hive's: only its workers serve them, and only another worker there would.
   */
  private onBacklog(model: string, hive: string | undefined): void {
    const serving = this.deps.table.byModel(model).filter((worker) => this.placeable(worker) && isServing(worker) && (hive === undefined || worker.hiveName === hive));
    const slots = serving.reduce((sum, worker) => sum + leaseCapacity(worker), 0);
    const waiting = hive === undefined ? this.dispatcher.queued(model) : this.dispatcher.queuedOn(model, hive);
    if (serving.length === 0 || waiting < slots) return;
    const plan = this.spawner.scaleOut(model, hive);
    if (plan) console.log(`model '${model}': ${waiting} request(s) wait for its ${serving.length} busy worker(s)${hive === undefined ? "" : ` on hive ${hive}`}; starting another on hive ${plan.hiveName}`);
  }

  private onNoWorker(model: string, why: string, failedOn: readonly string[], hive?: string): "spawning" | Refusal {
    if (this.returning.isAwaited(model, hive, failedOn)) return "spawning"; // its worker is about to beat again
    // A pinned hive that is away, with other workers awaited back but none of this model: nothing to wait for.
    if (hive !== undefined && !this.deps.isHiveOnline(hive)) return hiveNotConnected(hive);
    // A failover can ask before the failed worker's silence is reported (its hive abandons the
    // relay first): its hive is suspect from the failure alone, as long as the worker is passed over.
    for (const workerId of failedOn) {
      const failedHive = this.deps.table.get(workerId)?.hiveName;
      if (failedHive !== undefined) this.suspects.suspect(failedHive, Date.now() + WORKER_FAILED_COOLDOWN_MS);
    }
    const answer = this.spawner.request(model, hive, { drainBusy: this.isStarving(model) });
    if (answer === "spawning") return "spawning";
    if (answer.retryable) {
      // It fits once busy workers finish: wait (within the deadline) rather than evict them, until it starves.
      if (!this.awaitingRoom.has(model)) this.awaitingRoom.set(model, Date.now());
      this.wakeWhenRoomMayOpen();
      return "spawning";
    }
    const line = `no worker can be started for '${model}': ${answer.code}: ${answer.message}`;
    if (this.repeatedLines.mayRepeat(line, Date.now())) console.warn(`${line} (said again at most once a minute)`);
    // A pinned hive that has no such model will not have it by waiting: not a 503 to retry.
    if (answer.code === "model_not_found" && hive !== undefined) {
      return { ok: false, status: 404, code: "model_not_found", message: `The model '${model}' is not in the catalog of hive '${hive}', and no worker of it runs there.` };
    }
    // No online hive has it in its catalog: what became of its workers says more.
    if (answer.code === "model_not_found") return noWorkerRefusal(why);
    // A model that fits no device, or whose policy no hive meets, stays so until an admin or a hive
    // changes something: the SDKs are told not to retry.
    // A failed spawn is tried again once its failure is out of mind: Retry-After says when. One of
    // the model's source is not retried by the SDKs at all: the same download would fail the same way.
    if (answer.code === "worker_spawn_failed") {
      return { ok: false, status: 503, code: answer.code, message: answer.message, retryAfterSeconds: answer.retryAfterSeconds, ...(answer.final ? { final: true } : {}) };
    }
    return { ok: false, status: answer.status === 404 ? 404 : 503, code: answer.code, message: answer.message, final: true };
  }

  private onWorkerChange(change: WorkerChange): void {
    this.returning.settle(change.kind === "gone" ? change.workerId : change.worker.workerId);
    // A worker silent while its hive's socket stays open: the hive may be frozen (SIGSTOP, a hung
    // machine) and is dropped only when its own silence times out. Known before the plans below.
    if (change.kind === "gone" && change.reason === "heartbeats_missed") this.suspects.suspect(change.hiveName, Date.now() + SILENT_WORKER_SUSPECT_MS);
    if (change.kind === "gone" && change.reason === "hive_offline") {
      // A dropped socket is often a blip or a hive restart, and the worker lives on: wait for it.
      this.returning.away(change.hiveName, [{ workerId: change.workerId, model: change.model }], Date.now() + HIVE_RETURN_WAIT_MS);
    }
    if (change.kind === "gone") {
      this.retiring.delete(change.workerId);
      this.residentSince.delete(change.workerId);
      this.lastActive.delete(change.workerId);
      this.reaper.forget(change.workerId);
      // Its hive's socket dropped: the worker lives on, and its idle clock with it (noteResident takes it back).
      if (change.reason !== "hive_offline") this.deps.idle?.forget(change.workerId);
    } else if (change.worker.state === "ready" && !this.residentSince.has(change.worker.workerId)) {
      this.noteResident(change.worker.workerId);
    }
    this.dispatcher.onWorkerChange(change, change.kind === "gone" ? change.reason : undefined);
    this.reconsider();
    this.deps.onIdleCheckDue();
  }

  /**
   * A worker ready to serve, new to this object: loaded now, or back (after an eviction, a queen
   * restart or its hive's reconnect) idle, and resident, since the times stored for it. A worker with nothing
   * stored has its time stored now: otherwise each eviction before its first request would start
   * its keep-alive again, and it would never be unloaded.
   */
  private noteResident(workerId: string): void {
    const now = Date.now();
    const stored = this.deps.idle?.take(workerId);
    this.residentSince.set(workerId, stored?.residentSinceMs ?? now);
    this.lastActive.set(workerId, stored?.lastActiveAtMs ?? now);
    if (stored === undefined) this.deps.idle?.record(workerId, { lastActiveAtMs: now, residentSinceMs: now });
    if (stored?.keepAliveMs !== undefined) this.reaper.requestEnded(workerId, stored.keepAliveMs);
  }

  /** Whether `workerId` is away but expected back (its hive reconnecting): what is stored of it is kept. */
  isExpectedBack(workerId: string): boolean {
    return this.returning.isAwaitedWorker(workerId);
  }

  /**
   * Takes `worker` out of placement and stops it through its hive. One stopped to make room for
   * `forModel` while requests are in flight on it is drained first (worker-drain.ts): it is never
   * stopped mid-answer, and serves again (SwapAbandoned) if the room is no longer wanted.
   */
  private async retire(worker: LiveWorker, forModel?: string): Promise<void> {
    if (this.retiring.has(worker.workerId)) return;
    this.retiring.add(worker.workerId);
    const inFlight = this.dispatcher.leasesOn(worker.workerId);
    if (forModel !== undefined && inFlight > 0) {
      console.log(`draining worker ${worker.workerId} ('${worker.model}' on hive ${worker.hiveName}) for '${forModel}', whose requests waited past SWAP_DRAIN_AFTER_SECONDS: it takes no new request, and stops once its ${inFlight} in flight end`);
      const drain = await drainFor(
        { leasesOn: (id) => this.dispatcher.leasesOn(id), queued: (model) => this.dispatcher.queued(model), isLive: (id) => this.deps.table.get(id) !== undefined },
        worker.workerId,
        forModel,
      );
      if (!drain.drained) {
        this.retiring.delete(worker.workerId);
        this.dispatcher.reconsider(worker.model); // its own queue is served again at once
        throw new SwapAbandoned(`worker ${worker.workerId} ('${worker.model}') serves on: ${drain.why}`);
      }
    }
    try {
      await this.jobs.stop(worker);
    } catch (error) {
      this.retiring.delete(worker.workerId);
      console.error(`could not stop worker ${worker.workerId} on hive ${worker.hiveName}`, error);
    }
  }

  private placeable(worker: LiveWorker): boolean {
    return this.deps.isHiveOnline(worker.hiveName) && !this.retiring.has(worker.workerId);
  }

  private activity(worker: LiveWorker): WorkerActivity | undefined {
    // A worker on its way out is no candidate to stop again: a second plan counting on its memory
    // would start while it still holds it (a drain may last minutes).
    if (this.retiring.has(worker.workerId)) return undefined;
    const residentSinceMs = this.residentSince.get(worker.workerId);
    if (residentSinceMs === undefined) return undefined;
    return { inFlight: this.dispatcher.leasesOn(worker.workerId), lastActiveAtMs: this.lastActive.get(worker.workerId) ?? residentSinceMs, residentSinceMs };
  }

  private idleCandidates(): LiveWorker[] {
    return this.deps.table.all().filter((worker) => this.placeable(worker));
  }

  private idleContext() {
    return { activity: (worker: LiveWorker) => this.activity(worker), queued: (model: string) => this.dispatcher.queued(model), nowMs: Date.now() };
  }
}
