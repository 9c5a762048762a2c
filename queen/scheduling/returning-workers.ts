// Workers that are away but expected back: those of a hive whose socket just dropped (a blip, a
// hive restart: the workers live on), and those a reconnecting hive's hello listed that have not
// beaten since (a restarted hive says hello before its workers find the new hive process). A
// request arriving meanwhile waits for them, within its deadline, rather than being refused or
// spawning a second copy of the model (on a GPU the copy may not even fit). Each is awaited for
// a while: heard from, it is a live worker like any other; silent, it is given up and the
// requests for its model are planned again (a spawn, or a refusal). The scheduler owns one.

/**
 * How long requests wait for the workers of a hive whose socket dropped, ms: the hive reconnects
 * with backoff, or restarts and finds its workers again, within seconds.
 */
export const HIVE_RETURN_WAIT_MS = 10_000;

/** A worker expected back. */
export interface ReturningWorker {
  workerId: string;
  model: string;
}

export class ReturningWorkers {
  private readonly awaited = new Map<string, { model: string; hiveName: string; untilMs: number }>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** Some workers of `model` were given up: its waiting requests are planned again. */
    private readonly onGivenUp: (model: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** `hiveName`'s socket dropped while `workers` ran on it: each is awaited until `untilMs`. */
  away(hiveName: string, workers: ReturningWorker[], untilMs: number): void {
    for (const { workerId, model } of workers) this.awaited.set(workerId, { model, hiveName, untilMs: Math.max(untilMs, this.awaited.get(workerId)?.untilMs ?? 0) });
    this.armTimer();
  }

  /**
   * `hiveName` said hello listing `workers`: each is awaited until `untilMs` at least. Its workers
   * the hello left out are gone for good: no longer awaited.
   */
  listedInHello(hiveName: string, workers: ReturningWorker[], untilMs: number): void {
    const listed = new Set(workers.map((worker) => worker.workerId));
    for (const [workerId, entry] of this.awaited) if (entry.hiveName === hiveName && !listed.has(workerId)) this.awaited.delete(workerId);
    this.away(hiveName, workers, untilMs);
  }

  /** Whether some worker of `hiveName` is awaited still: the hive dropped a moment ago and is likely back soon. */
  isHiveAwaited(hiveName: string): boolean {
    const now = this.now();
    for (const entry of this.awaited.values()) if (entry.hiveName === hiveName && entry.untilMs > now) return true;
    return false;
  }

  /** Whether `workerId` itself is awaited still. */
  isAwaitedWorker(workerId: string): boolean {
    const entry = this.awaited.get(workerId);
    return entry !== undefined && entry.untilMs > this.now();
  }

  /** The worker was heard from (or is gone for good): no longer awaited. */
  settle(workerId: string): void {
    this.awaited.delete(workerId);
  }

  /**
   * Whether a worker of `model` (on `hive`, when pinned) may come back any moment: spawning
   * another would double it. `except`: workers the request already failed on (failover).
   */
  isAwaited(model: string, hive?: string, except: readonly string[] = []): boolean {
    const now = this.now();
    for (const [workerId, entry] of this.awaited) {
      if (entry.model === model && entry.untilMs > now && (hive === undefined || entry.hiveName === hive) && !except.includes(workerId)) return true;
    }
    return false;
  }

  private armTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.awaited.size === 0) return;
    const next = Math.min(...[...this.awaited.values()].map((entry) => entry.untilMs));
    this.timer = setTimeout(() => this.giveUpDue(), Math.max(0, next - this.now()));
  }

  private giveUpDue(): void {
    const now = this.now();
    const models = new Set<string>();
    for (const [workerId, entry] of this.awaited) {
      if (entry.untilMs > now) continue;
      this.awaited.delete(workerId);
      models.add(entry.model);
    }
    this.armTimer();
    for (const model of models) this.onGivenUp(model);
  }
}
