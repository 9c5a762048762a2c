// Auto-spawn: when the dispatcher finds no worker for a model (its `onNoWorker` hook), the
// spawner plans where one should load (spawn-planner.ts), stops the idle workers the plan names
// to make room, and starts ONE worker_spawn job. Concurrent asks for a model whose spawn is in
// flight share it. A spawn that ends in error is remembered for a short while, so the requests
// queued for that model fail with its message instead of spawning again and again. It runs
// inside the Registry DO, which gives it the hives' facts, the live workers and the
// dispatcher's activity.
import { newId } from "../../shared/ids.js";
import type { LiveWorker } from "./contracts.js";
import type { PendingSpawn } from "./device-slots.js";
import type { HiveFacts } from "./hive-facts.js";
import type { HeadroomRule } from "./memory-figures.js";
import { planSpawn, type SpawnRefusal } from "./spawn-planner.js";
import type { SpawnerJobs } from "./spawner-jobs.js";
import type { SwapRules, WorkerActivity } from "./swap-policy.js";

/** What the spawner reads of the scheduler's state each time it plans. */
export interface SpawnerView {
  hives(): HiveFacts[];
  workers(): LiveWorker[];
  activity(worker: LiveWorker): WorkerActivity | undefined;
  queued(model: string): number;
}

export interface SpawnerOptions {
  /** How long a failed spawn's error answers for its model instead of a new spawn, ms. */
  failureMemoryMs?: number;
  swap?: SwapRules;
  headroom?: HeadroomRule;
  now?: () => number;
  log?: (line: string) => void;
}

export const DEFAULT_FAILURE_MEMORY_MS = 30_000;

export type SpawnOutcome =
  | { ok: true; workerId: string; hiveName: string; jobId: string; stopped: string[] }
  | SpawnRefusal
  | { ok: false; code: "worker_spawn_failed"; status: 503; retryable: false; message: string };

interface InFlight {
  pending: PendingSpawn | undefined;
  outcome: Promise<SpawnOutcome>;
}

export class Spawner {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly failures = new Map<string, { message: string; atMs: number }>();

  constructor(
    private readonly jobs: SpawnerJobs,
    private readonly view: SpawnerView,
    private readonly options: SpawnerOptions = {},
  ) {}

  /**
   * Gets a worker for `model` on its way, or says why none can be. Resolves once the spawn job
   * is submitted (not when the worker is ready: the dispatcher hears of that from the registry).
   */
  onNoWorker(model: string, pinnedHive?: string): Promise<SpawnOutcome> {
    const key = pinnedHive === undefined ? model : `${model}@${pinnedHive}`;
    const running = this.inFlight.get(key);
    if (running) return running.outcome;
    const failure = this.failures.get(key);
    if (failure && this.now() - failure.atMs < (this.options.failureMemoryMs ?? DEFAULT_FAILURE_MEMORY_MS)) {
      return Promise.resolve({ ok: false, code: "worker_spawn_failed", status: 503, retryable: false, message: failure.message });
    }
    this.failures.delete(key);
    const entry: InFlight = { pending: undefined, outcome: Promise.resolve(null as never) };
    entry.outcome = this.start(key, model, pinnedHive, entry);
    this.inFlight.set(key, entry);
    return entry.outcome;
  }

  /** Spawns submitted and not yet ended: the planner counts their memory as taken. */
  pendingSpawns(): PendingSpawn[] {
    return [...this.inFlight.values()].flatMap((entry) => (entry.pending ? [entry.pending] : []));
  }

  /** Whether a spawn for `model` is in flight (its requests wait for it). */
  isSpawning(model: string): boolean {
    return [...this.inFlight.values()].some((entry) => entry.pending?.model === model);
  }

  private async start(key: string, model: string, pinnedHive: string | undefined, entry: InFlight): Promise<SpawnOutcome> {
    const plan = planSpawn({
      model,
      ...(pinnedHive === undefined ? {} : { pinnedHive }),
      hives: this.view.hives(),
      workers: this.view.workers(),
      pendingSpawns: this.pendingSpawns(),
      activity: (worker) => this.view.activity(worker),
      queued: (name) => this.view.queued(name),
      nowMs: this.now(),
      ...(this.options.swap ? { rules: this.options.swap } : {}),
      ...(this.options.headroom ? { headroom: this.options.headroom } : {}),
    });
    if (!plan.ok) {
      this.inFlight.delete(key);
      return plan;
    }
    const workerId = newId("wrk");
    entry.pending = { workerId, hiveName: plan.hiveName, model, workerType: plan.workerType, ...(plan.device === undefined ? {} : { device: plan.device }), memoryBytes: plan.memoryBytes };
    try {
      // Stops first: the hive frees their memory before the new worker claims it.
      await Promise.all(plan.stop.map((worker) => this.jobs.stop(worker)));
      const jobId = await this.jobs.spawn(plan, workerId);
      this.log(`auto-spawn: worker ${workerId} for '${model}' on hive ${plan.hiveName} (${plan.workerType}${plan.device === undefined ? "" : ` #${plan.device}`}), job ${jobId}${plan.stop.length > 0 ? `, stopping ${plan.stop.map((worker) => worker.workerId).join(", ")} to make room` : ""}`);
      void this.follow(key, jobId, model, plan.hiveName);
      return { ok: true, workerId, hiveName: plan.hiveName, jobId, stopped: plan.stop.map((worker) => worker.workerId) };
    } catch (error) {
      this.inFlight.delete(key);
      const message = `could not start a worker for '${model}' on hive ${plan.hiveName}: ${error instanceof Error ? error.message : String(error)}`;
      this.failures.set(key, { message, atMs: this.now() });
      return { ok: false, code: "worker_spawn_failed", status: 503, retryable: false, message };
    }
  }

  /** Keeps the spawn's claim until its job ends; remembers a failure. */
  private async follow(key: string, jobId: string, model: string, hiveName: string): Promise<void> {
    const end = await this.jobs.ended(jobId).catch((error: unknown) => ({ ok: false as const, code: "internal_error", message: String(error) }));
    this.inFlight.delete(key);
    if (!end.ok) {
      this.failures.set(key, { message: `hive ${hiveName} could not start a worker for '${model}': ${end.message}`, atMs: this.now() });
    }
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private log(line: string): void {
    (this.options.log ?? ((text: string) => console.log(text)))(line);
  }
}
