// Auto-spawn: when the dispatcher finds no worker for a model (its `onNoWorker` hook), the
// spawner plans where one should load (spawn-planner.ts), stops the idle workers the plan names
// to make room, and starts ONE worker_spawn job. When requests wait behind a model's busy
// workers, scaleOut starts one more where it fits beside what runs. Concurrent asks for a model whose spawn is in
// flight share it. A spawn that ends in error is remembered for a while (spawn-failures.ts): the
// model's next spawn goes to another hive that can load it, and only where no other hive can (or
// where the fault is the model's source's, or an admin cancelled it) are the requests queued for
// that model refused with its message, instead of spawning there again and again. It runs inside
// the Registry DO, which gives it the hives' facts, the live workers and the dispatcher's activity.
import { describeError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import type { LiveWorker } from "./contracts.js";
import type { PendingSpawn } from "./device-slots.js";
import type { HiveFacts } from "./hive-facts.js";
import type { HeadroomRule } from "./memory-figures.js";
import type { ModelPolicy } from "./model-policy.js";
import { planSpawn, type SpawnPlan, type SpawnRefusal } from "./spawn-planner.js";
import { JOB_LOST } from "../jobs/job-lost.js";
import { type SpawnFailure, SpawnFailures } from "./spawn-failures.js";
import { type JobEnd, SPAWN_CANCELLED, SPAWN_CANCELLED_BY_ADMIN, type SpawnerJobs, SwapAbandoned } from "./spawner-jobs.js";
import type { SwapRules, WorkerActivity } from "./swap-policy.js";

/** What the spawner reads of the scheduler's state each time it plans. */
export interface SpawnerView {
  hives(): HiveFacts[];
  workers(): LiveWorker[];
  activity(worker: LiveWorker): WorkerActivity | undefined;
  queued(model: string): number;
  /** The model's admin policy, if it has one. */
  policyOf(model: string): ModelPolicy | undefined;
  /** Hives to spawn on only when nothing else fits (suspect-hives.ts). */
  suspectHives(): ReadonlySet<string>;
}

export interface SpawnerOptions {
  /** How long a spawn's failure keeps its model off the hive it failed on, ms. */
  failureMemoryMs?: number;
  swap?: SwapRules;
  headroom?: HeadroomRule;
  now?: () => number;
  log?: (line: string) => void;
  /** A spawn for `model` ended (its worker is up, or it failed): waiting requests may be answered now. */
  onSettled?: (model: string) => void;
}

/**
 * Spawn job errors that put the fault in the model's source itself: every hive fetching it would
 * fail the same way, after the same download, so the model's next spawn is tried on no hive for a
 * while. Not for a `file:` source, which names a file on each hive's own disk. The hub says the
 * first two for good (no such repo or file; only split files), and the SDKs are told not to retry;
 * a hash or size unlike the hub's is most likely the hub's copy, but may be a proxy's, and passes.
 */
const SOURCE_FAULTS_FOR_GOOD = new Set(["model_not_found", "unsupported_model"]);
const SOURCE_FAULTS_FOR_NOW = new Set(["checksum_mismatch", "size_mismatch"]);

/** Why no spawn can start for a model now: the planner's refusal, or a recent spawn's failure. */
export type SpawnDenial =
  | SpawnRefusal
  /**
   * retryAfterSeconds: until the first failure kept in mind passes, when a spawn may be tried again;
   * final: a failure that waiting will not mend (the hub has no such file, an admin cancelled).
   */
  | { ok: false; code: "worker_spawn_failed"; status: 503; retryable: false; message: string; retryAfterSeconds: number; final: boolean }
  /** The policy's max_workers are live: the requests wait for one of them (retryable). */
  | { ok: false; code: "max_workers_reached"; status: 503; retryable: true; message: string };

interface InFlight {
  pending: PendingSpawn;
}

export class Spawner {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly failures: SpawnFailures;

  constructor(
    private readonly jobs: SpawnerJobs,
    private readonly view: SpawnerView,
    private readonly options: SpawnerOptions = {},
  ) {
    this.failures = new SpawnFailures(() => this.now(), (line) => this.log(line), options.failureMemoryMs);
  }

  /**
   * Gets a worker for `model` on its way, or says at once why none can be. Synchronous, so the
   * dispatcher knows before it answers whether a request waits: the plan is made now and the
   * jobs (stops, then the spawn) are submitted in the background; their failure is remembered
   * and reported through `options.onSettled`, as is the spawn's end. The dispatcher hears the
   * new worker come (loading, then ready) from the registry. `drainBusy`: the model's requests
   * starve, and busy workers of other models may make room (a stop then waits for their requests).
   */
  request(model: string, pinnedHive?: string, how: { drainBusy?: boolean } = {}): "spawning" | SpawnDenial {
    const key = pinnedHive === undefined ? model : `${model}@${pinnedHive}`;
    if (this.inFlight.has(key)) return "spawning";
    const everywhere = this.failures.recentEverywhere(model);
    if (everywhere) return this.spawnFailed(everywhere.message, everywhere.untilMs, everywhere.forGood === true);
    const failedHives = this.failures.recentOnHives(key);
    const policy = this.view.policyOf(model);
    if (policy?.maxWorkers != null && this.liveCount(model) >= policy.maxWorkers) {
      return { ok: false, code: "max_workers_reached", status: 503, retryable: true, message: `model '${model}' has the ${policy.maxWorkers} worker(s) its policy allows; requests wait for them` };
    }
    const plan = this.plan(model, failedHives, { ...(pinnedHive === undefined ? {} : { pinnedHive }), ...how });
    // Nowhere else, for good: the requests fail with what went wrong where it was tried. Room that
    // may free elsewhere (memory_busy) is still worth waiting for.
    const newest = [...failedHives.values()].sort((a, b) => b.atMs - a.atMs)[0];
    if (!plan.ok && newest && !plan.retryable) return this.spawnFailed(newest.message, Math.min(...[...failedHives.values()].map((failure) => failure.untilMs)), false);
    if (!plan.ok) return plan;
    this.start(key, plan);
    return "spawning";
  }

  /**
   * Another worker for `model`, whose workers are all taken while requests wait (scaling out): on
   * a device that runs none of the model yet and has room beside what runs, stopping nothing
   * (spawn-planner.ts's `alongside`), within the policy's max_workers, one at a time per model.
   * The plan it started, or undefined when none can start now. The idle reaper stops it again
   * once it has been idle its keep-alive. `pinnedHive`: only there (its requests are pinned to it).
   */
  scaleOut(model: string, pinnedHive?: string): SpawnPlan | undefined {
    if (this.isSpawning(model) || this.failures.recentEverywhere(model)) return undefined;
    const policy = this.view.policyOf(model);
    if (policy?.maxWorkers != null && this.liveCount(model) >= policy.maxWorkers) return undefined;
    const plan = this.plan(model, this.failures.recentOnHives(model), { alongside: true, ...(pinnedHive === undefined ? {} : { pinnedHive }) });
    if (!plan.ok) return undefined;
    this.start(model, plan);
    return plan;
  }

  /** The model's workers, live or being started (a loading worker is both: counted once). */
  private liveCount(model: string): number {
    const live = this.view.workers().filter((worker) => worker.model === model).map((worker) => worker.workerId);
    const starting = this.pendingSpawns().filter((spawn) => spawn.model === model).map((spawn) => spawn.workerId);
    return new Set([...live, ...starting]).size;
  }

  private plan(model: string, failedHives: ReadonlyMap<string, SpawnFailure>, where: { pinnedHive?: string; alongside?: boolean; drainBusy?: boolean }): SpawnPlan | SpawnRefusal {
    const policy = this.view.policyOf(model);
    return planSpawn({
      model,
      ...(policy ? { policy } : {}),
      ...where,
      hives: this.view.hives().filter((facts) => !failedHives.has(facts.hiveName)),
      passOver: this.view.suspectHives(),
      workers: this.view.workers(),
      pendingSpawns: this.pendingSpawns(),
      activity: (worker) => this.view.activity(worker),
      queued: (name) => this.view.queued(name),
      nowMs: this.now(),
      ...(this.options.swap ? { rules: this.options.swap } : {}),
      ...(this.options.headroom ? { headroom: this.options.headroom } : {}),
    });
  }

  private start(key: string, plan: SpawnPlan): void {
    const workerId = newId("wrk");
    const pending: PendingSpawn = { workerId, hiveName: plan.hiveName, model: plan.model, workerType: plan.workerType, ...(plan.device === undefined ? {} : { device: plan.device }), memoryBytes: plan.memoryBytes };
    this.inFlight.set(key, { pending });
    void this.run(key, plan, workerId);
  }

  /** Spawns submitted and not yet ended: the planner counts their memory as taken. */
  pendingSpawns(): PendingSpawn[] {
    return [...this.inFlight.values()].map((entry) => entry.pending);
  }

  /** Whether a spawn for `model` is in flight (its requests wait for it). */
  isSpawning(model: string): boolean {
    return [...this.inFlight.values()].some((entry) => entry.pending.model === model);
  }

  /** Stops what the plan makes room with, starts the worker, and follows its job to the end. */
  private async run(key: string, plan: SpawnPlan, workerId: string): Promise<void> {
    const { model, hiveName } = plan;
    try {
      // Stops first: the hive frees their memory before the new worker claims it.
      await Promise.all(plan.stop.map((worker) => this.jobs.stop(worker, model)));
      const jobId = await this.jobs.spawn(plan, workerId);
      const stopping = plan.stop.length > 0 ? `, stopping ${plan.stop.map((worker) => worker.workerId).join(", ")} to make room` : "";
      this.log(`auto-spawn: worker ${workerId} for '${model}' on hive ${hiveName} (${plan.workerType}${plan.device === undefined ? "" : ` #${plan.device}`}), job ${jobId}${stopping}`);
      const end = await this.jobs.ended(jobId).catch((error: unknown): JobEnd => ({ ok: false, code: "internal_error", message: describeError(error) }));
      if (end.ok) {
        this.failures.succeeded(key, model, hiveName);
      } else if (end.code === JOB_LOST) {
        // A job the hive lost (it was away, or restarted) says nothing of whether it can start one.
        this.log(`auto-spawn: hive ${hiveName} lost the job for '${model}' (${end.message}); planning again`);
      } else {
        const failed = `hive ${hiveName} could not start a worker for '${model}': ${end.message}`;
        const sourceFault = !plan.source.startsWith("file:") && (SOURCE_FAULTS_FOR_GOOD.has(end.code) || SOURCE_FAULTS_FOR_NOW.has(end.code));
        if (end.code === SPAWN_CANCELLED_BY_ADMIN) this.failures.failEverywhere(model, `${failed}; no hive starts one on its own for a while`, true);
        else if (sourceFault) this.failures.failEverywhere(model, `${failed} (${end.code}: its source fails the same on every hive, so no other is tried for a while)`, SOURCE_FAULTS_FOR_GOOD.has(end.code));
        else this.failures.fail(key, hiveName, failed, end.code === SPAWN_CANCELLED);
      }
    } catch (error) {
      // A drain given up is no fault of the hive's: the next request plans afresh.
      if (error instanceof SwapAbandoned) this.log(`auto-spawn for '${model}' on hive ${hiveName} given up: ${error.message}`);
      else this.failures.fail(key, hiveName, `could not start a worker for '${model}' on hive ${hiveName}: ${describeError(error)}`);
    } finally {
      this.inFlight.delete(key);
      this.options.onSettled?.(model);
    }
  }

  /**
   * `hiveName` said hello (it connected, or came back): the spawns it cancelled count against it no
   * more. Kept until then, they stop the model's requests from being planned onto a hive that is
   * stopping, again and again, until its socket closes.
   */
  hiveHello(hiveName: string): void {
    this.failures.hiveHello(hiveName);
  }

  private spawnFailed(message: string, retryAtMs: number, final: boolean): SpawnDenial {
    return { ok: false, code: "worker_spawn_failed", status: 503, retryable: false, message, retryAfterSeconds: Math.max(1, Math.ceil((retryAtMs - this.now()) / 1000)), final };
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private log(line: string): void {
    (this.options.log ?? ((text: string) => console.log(text)))(line);
  }
}
