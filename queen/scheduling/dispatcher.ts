// The queen's scheduler core: a bounded queue per model, fair between API keys, and leases. A
// request holds a lease on a worker while it is relayed; a worker gets at most as many leases as
// it has slots, so its own queue stays empty and the queen keeps the rest, where it is fair and
// bounded and can move to whichever worker frees first. When a lease ends, or a worker becomes
// ready, the next waiting request is placed at once. A plain class: the Registry Durable Object
// holds one and delegates its acquire/release/abandon RPC methods to it; tests drive it directly.
import type { LeaseEnd, LeaseOutcome, LeaseRequest, LeaseWait, LiveWorker, WorkerChange, WorkerScheduling } from "./contracts.js";
import { FairQueue, type Queued } from "./fair-queue.js";
import { chooseWorker, eligibleWorkers, isServing, leaseCapacity, type PlacementView } from "./placement.js";
import { PromptAffinity } from "./prompt-affinity.js";
import { HIVE_RETURN_WAIT_MS } from "./returning-workers.js";

/** The live workers, as the dispatcher reads them (the Registry adapts its table to this). */
export interface WorkerSource {
  /** Every worker the queen knows for `model` on a connected hive, in any state. */
  workersOf(model: string): LiveWorker[];
  /** Whether any worker ever served `model`: a model never seen is answered 404. */
  knowsModel(model: string): boolean;
  /** Whether a hive of that name is connected now: `model@hive` on one that is not cannot be placed. */
  isHiveOnline(hiveName: string): boolean;
}

export type Refusal = Extract<LeaseOutcome, { ok: false }>;

/** The refusal of `model@hive` for a hive that is not connected. */
export const HIVE_NOT_CONNECTED = "hive_not_connected";

/**
 * What to do about a request for a model with no worker serving or loading: "spawning" (a worker
 * is being started; the request waits for it, within its deadline) or a refusal saying why not.
 * This is the auto-spawner's hook; without one the request is refused with `why`. `failedOn`: the
 * workers this request already failed on (failover), never waited for again. `hive`: the hive a
 * `model@hive` request pins, where a worker must then be started.
 */
export type NoWorkerHook = (model: string, why: string, failedOn: readonly string[], hive?: string) => "spawning" | Refusal;

export interface Clock {
  now(): number;
  /** Runs `run` after `delayMs`; the function returned cancels it. */
  setTimer(run: () => void, delayMs: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (run, delayMs) => {
    const timer = setTimeout(run, delayMs);
    return () => clearTimeout(timer);
  },
};

export interface DispatcherOptions {
  source: WorkerSource;
  /** Requests one model may have waiting (QUEUE_MAX_PER_MODEL); one more is refused 429. */
  maxQueuePerModel: number;
  onNoWorker?: NoWorkerHook;
  /**
   * A request of `model` waits while its workers serve (every slot is taken): the scheduler may
   * start another worker; on `hive` when the request is pinned there (`model@hive`).
   */
  onBacklog?: (model: string, hive: string | undefined) => void;
  /** How long requests wait for a worker that went with its hive or its heartbeats to come back, ms. */
  strandedGraceMs?: number;
  clock?: Clock;
}

/**
 * A hive's first reconnect attempt comes within a second or two, and a worker dropped for a late
 * heartbeat is back with its next one: requests waiting for them get this long, ms.
 */
const DEFAULT_STRANDED_GRACE_MS = HIVE_RETURN_WAIT_MS;
/** How long a worker that failed a request before its first byte is passed over, ms. */
export const WORKER_FAILED_COOLDOWN_MS = 10_000;
/** What a request is assumed to take before any lease of its model has ended, ms (Retry-After). */
const ASSUMED_LEASE_MS = 2000;
/** Weight of the newest lease in the running average of lease durations. */
const LEASE_AVERAGE_WEIGHT = 0.2;
const MAX_RETRY_AFTER_SECONDS = 60;

interface Waiting extends Queued {
  enqueuedAtMs: number;
  request: LeaseRequest;
  resolve: (outcome: LeaseOutcome) => void;
  cancelDeadline: () => void;
  /** Set while no worker of the model served yet (spawning or loading): that wait is `spawn` time. */
  spawnWaitSinceMs?: number;
  spawnWaitUntilMs?: number;
}

interface Lease {
  requestId: string;
  workerId: string;
  model: string;
  grantedAtMs: number;
  /** Holds no slot (LeaseRequest.slotless): not counted in flight, nor in how long the model's leases last. */
  slotless: boolean;
}

interface GoneWorker {
  atMs: number;
  reason: string | undefined;
}

export class Dispatcher {
  private readonly queues = new Map<string, FairQueue<Waiting>>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly leases = new Map<string, Lease>();
  private readonly inFlight = new Map<string, number>();
  /** Worker id → until when it is passed over (Unix ms). */
  private readonly coolingUntil = new Map<string, number>();
  /** Model → running average of how long its leases last, ms. */
  private readonly leaseMs = new Map<string, number>();
  /** Model → when and why its last worker went, for a refusal that says what happened. */
  private readonly lastGone = new Map<string, GoneWorker>();
  /**
   * When each model's waiting requests are next checked for a worker that went and did not come
   * back: one timer per model, however many of its workers go (thousands do when hives drop at
   * once, and a Worker may hold only 10,000 timers).
   */
  private readonly strandedChecks = new Map<string, { dueMs: number }>();
  private readonly promptAffinity = new PromptAffinity();
  private readonly clock: Clock;
  private readonly view: PlacementView = {
    inFlight: (workerId) => this.inFlight.get(workerId) ?? 0,
    cooling: (workerId) => this.isCooling(workerId),
  };

  constructor(private readonly options: DispatcherOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Leases a worker for `request` now, or once one frees within its deadline, or says why not. */
  acquire(asked: LeaseRequest): Promise<LeaseOutcome> {
    const request = this.resolveTarget(asked);
    const now = this.clock.now();
    const ahead = this.refusalOrWait(request);
    if (ahead.refusal) return Promise.resolve(ahead.refusal);
    const waitingNow = this.queued(request.model);
    // A slotless request with a worker serving is placed at once, however many wait for slots.
    const placedAtOnce = request.slotless === true && !ahead.spawnWait;
    if (waitingNow >= this.options.maxQueuePerModel && !request.continuing && !placedAtOnce) return Promise.resolve(this.queueFull(request.model, waitingNow));
    const queue = this.queueOf(request.model);
    return new Promise<LeaseOutcome>((resolve) => {
      // A refusal after a wait says how long it waited, as a lease does (the Server-Timing header).
      const answer = (outcome: LeaseOutcome) => resolve(outcome.ok ? outcome : { ...outcome, timing: this.waitOf(entry) });
      const entry: Waiting = { request, keyId: request.keyId, enqueuedAtMs: now, resolve: answer, cancelDeadline: () => {} };
      if (ahead.spawnWait) entry.spawnWaitSinceMs = now;
      queue.push(entry, { ahead: request.continuing === true });
      this.waiting.set(request.requestId, entry);
      entry.cancelDeadline = this.clock.setTimer(() => this.timeOut(entry), Math.max(0, request.deadlineMs - now));
      this.drain(request.model);
      if (!ahead.spawnWait && this.waiting.has(request.requestId)) this.options.onBacklog?.(request.model, request.hive);
    });
  }

  /** A lease ended; the next waiting request of its model is placed at once. Unknown ids are ignored (released twice). */
  release(leaseId: string, end: LeaseEnd): void {
    const lease = this.leases.get(leaseId);
    if (!lease) return;
    this.leases.delete(leaseId);
    if (lease.slotless) return;
    const left = (this.inFlight.get(lease.workerId) ?? 1) - 1;
    if (left > 0) this.inFlight.set(lease.workerId, left);
    else this.inFlight.delete(lease.workerId);
    const now = this.clock.now();
    if (end === "worker_failed") this.coolingUntil.set(lease.workerId, now + WORKER_FAILED_COOLDOWN_MS);
    if (end === "ok") {
      const lastMs = now - lease.grantedAtMs;
      const average = this.leaseMs.get(lease.model);
      this.leaseMs.set(lease.model, average === undefined ? lastMs : average + LEASE_AVERAGE_WEIGHT * (lastMs - average));
    }
    this.drain(lease.model);
  }

  /** The client of a waiting request went away: it leaves the queue (a granted lease is released by its holder). */
  abandon(requestId: string): void {
    const entry = this.waiting.get(requestId);
    if (!entry) return;
    this.forgetWaiting(entry);
    entry.resolve(refusal(503, "client_gone", "The client went away while the request waited."));
  }

  /**
   * The live worker table changed: a worker that became ready takes waiting requests; a worker
   * that went is no longer placed on (its leases end with their relays, which fail). A model left
   * with nothing serving or loading refuses its waiting requests, unless a spawn is on its way:
   * at once when its worker was stopped, deleted or exited (none comes back), after `strandedGraceMs` when it went with its
   * hive or its heartbeats (it may be back in a moment, and then serves them).
   */
  onWorkerChange(change: WorkerChange, goneReason?: string): void {
    const model = change.kind === "gone" ? change.model : change.worker.model;
    if (change.kind === "gone") {
      this.coolingUntil.delete(change.workerId);
      this.lastGone.set(model, { atMs: this.clock.now(), reason: goneReason });
      if (goneReason === "deleted" || goneReason === "stopped" || goneReason === "exited") this.refuseStranded(model);
      else this.checkStrandedAt(model, this.clock.now() + (this.options.strandedGraceMs ?? DEFAULT_STRANDED_GRACE_MS));
      return;
    }
    const queue = this.queues.get(model);
    if (!queue) return;
    if (isServing(change.worker)) {
      const now = this.clock.now();
      for (const entry of queue.all()) if (entry.spawnWaitSinceMs !== undefined) entry.spawnWaitUntilMs ??= now;
    }
    this.drain(model);
  }

  /** Answers the waiting requests of `model` that can no longer wait (a spawn failed), and places what fits. */
  reconsider(model: string): void {
    this.refuseStranded(model);
    this.drain(model);
  }

  /**
   * `hiveName`'s socket is gone: requests pinned to it (`model@hive`) are answered now, 503
   * hive_not_connected as a new one would be, rather than wait for a worker there until their deadline.
   */
  hiveOffline(hiveName: string): void {
    for (const queue of this.queues.values()) this.refuseWhereRefused(queue.all().filter((entry) => entry.request.hive === hiveName));
  }

  /** Requests waiting for `model` now (all models when omitted). */
  queued(model?: string): number {
    if (model !== undefined) return this.queues.get(model)?.size ?? 0;
    return this.waiting.size;
  }

  /** Requests waiting for `model` now that are pinned to `hive` (`model@hive`). */
  queuedOn(model: string, hive: string): number {
    return this.queues.get(model)?.all().filter((entry) => entry.request.hive === hive).length ?? 0;
  }

  /** Requests waiting now, per model with any waiting (GET /metrics). */
  queuedByModel(): Record<string, number> {
    return Object.fromEntries([...this.queues].map(([model, queue]) => [model, queue.size]));
  }

  /** Leases the queen holds on `workerId` now. */
  leasesOn(workerId: string): number {
    return this.inFlight.get(workerId) ?? 0;
  }

  /**
   * `name@hive` (model-target.ts) is a model of that whole name, not a pin, when such a model is
   * known and `name` alone is not: model names may contain '@'.
   */
  private resolveTarget(request: LeaseRequest): LeaseRequest {
    if (request.hive === undefined) return request;
    const whole = `${request.model}@${request.hive}`;
    const { source } = this.options;
    if (!source.knowsModel(whole) || source.knowsModel(request.model)) return request;
    const { hive: _pin, ...unpinned } = request;
    return { ...unpinned, model: whole };
  }

  /** Places waiting requests of `model` on free workers, fairly, until none fits. */
  private drain(model: string): void {
    const queue = this.queues.get(model);
    if (!queue) return;
    const workers = this.options.source.workersOf(model);
    for (;;) {
      const next = queue.takeNext((entry) =>
        entry.request.slotless
          ? anyServingWorker(workers, entry.request, this.view)
          : chooseWorker(workers, entry.request, this.view, this.promptAffinity.workerFor(entry.request.promptKeys)),
      );
      if (!next) break;
      this.grant(next.entry, next.picked);
    }
    if (queue.size === 0) this.queues.delete(model);
  }

  private grant(entry: Waiting, worker: LiveWorker): void {
    const now = this.clock.now();
    entry.cancelDeadline();
    this.waiting.delete(entry.request.requestId);
    const leaseId = crypto.randomUUID();
    const slotless = entry.request.slotless === true;
    this.leases.set(leaseId, { requestId: entry.request.requestId, workerId: worker.workerId, model: entry.request.model, grantedAtMs: now, slotless });
    if (!slotless) this.inFlight.set(worker.workerId, this.leasesOn(worker.workerId) + 1);
    this.promptAffinity.placed(entry.request.promptKeys, worker.workerId);
    entry.resolve({ ok: true, leaseId, hiveName: worker.hiveName, workerId: worker.workerId, port: worker.port, timing: this.waitOf(entry) });
  }

  /** How long `entry` has waited until now, and how much of it for a worker to spawn or load. */
  private waitOf(entry: Waiting): LeaseWait {
    const now = this.clock.now();
    const waitedMs = now - entry.enqueuedAtMs;
    const spawnMs = entry.spawnWaitSinceMs === undefined ? 0 : Math.min(waitedMs, (entry.spawnWaitUntilMs ?? now) - entry.spawnWaitSinceMs);
    return { queueMs: waitedMs - spawnMs, spawnMs };
  }

  /**
   * Why `request` cannot wait for a worker at all, or whether it waits for one to be spawned or
   * loaded (its wait then counts as spawn time rather than queue time).
   */
  private refusalOrWait(request: LeaseRequest): { refusal?: Refusal; spawnWait?: boolean } {
    const { model, hive } = request;
    const workers = this.options.source.workersOf(model);
    if (workers.length === 0 && !this.options.source.knowsModel(model)) {
      return { refusal: refusal(404, "model_not_found", `The model '${model}' does not exist or no worker serves it.`) };
    }
    const onHive = hive === undefined ? workers : workers.filter((worker) => worker.hiveName === hive);
    if (eligibleWorkers(onHive, request, this.view).length > 0) return {};
    if (onHive.some((worker) => worker.state === "loading")) return { spawnWait: true };
    if (hive !== undefined && !this.options.source.isHiveOnline(hive)) {
      // The route tells an unknown hive (404) from one that is registered but away (routes/inference-relay.ts).
      return { refusal: hiveNotConnected(hive) };
    }
    // A request that lost its worker (failover) may have a new one spawned for it, like any other;
    // a pinned one, on its hive.
    const why =
      hive !== undefined
        ? `No worker of model '${model}' is ready on hive '${hive}'.`
        : (request.excludeWorkerIds ?? []).length > 0
          ? `No other worker serves model '${model}' now.`
          : this.absence(model);
    const hook = this.options.onNoWorker?.(model, why, request.excludeWorkerIds ?? [], hive) ?? noWorkerRefusal(why);
    return hook === "spawning" ? { spawnWait: true } : { refusal: hook };
  }

  /** What became of the model's workers, in words a person can act on (no hive names: clients read it). */
  private absence(model: string): string {
    const gone = this.lastGone.get(model);
    // Read by clients of any key: what an admin can do, and what may simply come back by itself.
    const start = "No online hive has it in its catalog: the hive that has it may be offline. An admin can start a worker with a worker_spawn job (POST /v1/jobs).";
    if (!gone) return `No worker is running model '${model}'. ${start}`;
    const how = gone.reason === undefined ? "went away" : (GONE_WORDS[gone.reason] ?? `went away (${gone.reason})`);
    return `No worker is running model '${model}': its last worker ${how} at ${new Date(gone.atMs).toISOString()}. ${start}`;
  }

  /** Refuses the waiting requests of `model` that no worker can serve now and none will. */
  private refuseStranded(model: string): void {
    this.refuseWhereRefused(this.queues.get(model)?.all() ?? []);
  }

  /** Answers each of `entries` that a new request would be refused for now, with that refusal. */
  private refuseWhereRefused(entries: readonly Waiting[]): void {
    for (const entry of entries) {
      const ahead = this.refusalOrWait(entry.request);
      if (!ahead.refusal) continue;
      this.forgetWaiting(entry);
      entry.resolve(ahead.refusal);
    }
  }

  /** Checks `model`'s waiting requests at `dueMs` (or later, when another of its workers went since). */
  private checkStrandedAt(model: string, dueMs: number): void {
    const pending = this.strandedChecks.get(model);
    if (pending) {
      pending.dueMs = Math.max(pending.dueMs, dueMs); // the running timer re-arms for the rest
      return;
    }
    const check = { dueMs };
    this.strandedChecks.set(model, check);
    const fire = () => {
      if (check.dueMs > this.clock.now()) {
        this.clock.setTimer(fire, check.dueMs - this.clock.now());
        return;
      }
      this.strandedChecks.delete(model);
      this.refuseStranded(model);
    };
    this.clock.setTimer(fire, dueMs - this.clock.now());
  }

  private timeOut(entry: Waiting): void {
    const queue = this.queues.get(entry.request.model);
    const position = queue?.positionOf(entry) ?? 1;
    const of = queue?.size ?? 1;
    this.forgetWaiting(entry);
    const waitedSeconds = ((this.clock.now() - entry.enqueuedAtMs) / 1000).toFixed(1);
    entry.resolve(
      refusal(
        504,
        "queue_timeout",
        `Waited ${waitedSeconds} s for a worker of model '${entry.request.model}' and was still number ${position} of ${of} in its queue when the request's deadline (X-Request-Timeout, or its client's own timeout) passed.`,
      ),
    );
  }

  /** Roughly how long the requests waiting for `model` now take to be placed, ms: its queue over its serving slots, at its leases' running average. */
  drainMs(model: string): number {
    const size = this.queued(model);
    if (size === 0) return 0;
    const capacity = this.options.source
      .workersOf(model)
      .filter(isServing)
      .reduce((sum, worker) => sum + leaseCapacity(worker), 0);
    return (size * (this.leaseMs.get(model) ?? ASSUMED_LEASE_MS)) / Math.max(1, capacity);
  }

  private queueFull(model: string, size: number): Refusal {
    const retryAfterSeconds = Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(this.drainMs(model) / 1000)));
    return refusal(
      429,
      "queue_full",
      `${size} requests already wait for model '${model}' (the most the queen holds per model, QUEUE_MAX_PER_MODEL); retry after ${retryAfterSeconds} s.`,
      retryAfterSeconds,
    );
  }

  private queueOf(model: string): FairQueue<Waiting> {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = new FairQueue<Waiting>();
      this.queues.set(model, queue);
    }
    return queue;
  }

  private forgetWaiting(entry: Waiting): void {
    entry.cancelDeadline();
    this.waiting.delete(entry.request.requestId);
    const queue = this.queues.get(entry.request.model);
    queue?.remove(entry);
    if (queue?.size === 0) this.queues.delete(entry.request.model);
  }

  /** What this dispatcher holds of `workerId` now. */
  schedulingOf(workerId: string): WorkerScheduling {
    return { leases: this.inFlight.get(workerId) ?? 0, cooling: this.isCooling(workerId) };
  }

  private isCooling(workerId: string): boolean {
    const until = this.coolingUntil.get(workerId);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.coolingUntil.delete(workerId);
    return false;
  }
}

/** The Registry's stop reasons, as a refusal says them. */
const GONE_WORDS: Readonly<Record<string, string>> = {
  deleted: "was deleted",
  stopped: "stopped",
  exited: "exited",
  hive_offline: "went away with its machine's connection",
  heartbeats_missed: "stopped heartbeating",
};

/** Seconds a client is told to wait when a model has no worker: one may be started meanwhile. */
const NO_WORKER_RETRY_AFTER_SECONDS = 2;

/** The refusal for a model nothing serves or loads and nothing is spawning, saying `why`. */
/** A request pinned to `hive` (`model@hive`), which is not connected now. */
export function hiveNotConnected(hive: string): Refusal {
  return refusal(503, HIVE_NOT_CONNECTED, `No hive named '${hive}' is connected (model@hive pins the hive named after the last '@').`, NO_WORKER_RETRY_AFTER_SECONDS);
}

export function noWorkerRefusal(why: string): Refusal {
  return refusal(503, "no_worker_available", why, NO_WORKER_RETRY_AFTER_SECONDS);
}

function refusal(status: Refusal["status"], code: string, message: string, retryAfterSeconds?: number): Refusal {
  return retryAfterSeconds === undefined ? { ok: false, status, code, message } : { ok: false, status, code, message, retryAfterSeconds };
}

/** For a slotless lease: the eligible worker with the fewest leases, busy or not; undefined while none serves. */
function anyServingWorker(workers: readonly LiveWorker[], ask: LeaseRequest, view: PlacementView): LiveWorker | undefined {
  let best: LiveWorker | undefined;
  for (const worker of eligibleWorkers(workers, ask, view)) if (best === undefined || view.inFlight(worker.workerId) < view.inFlight(best.workerId)) best = worker;
  return best;
}
