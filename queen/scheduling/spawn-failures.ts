// What the spawner remembers of the spawns that failed, and for how long. A failure keeps the
// model off the hive it failed on (a frozen or broken hive must not keep the model from the healthy
// ones), twice as long after each one in a row there; one whose fault is the model's source (the
// same download would fail on every hive) or that an admin cancelled keeps it off every hive; one a
// hive cancelled as it stopped lasts until that hive's next hello.

export const DEFAULT_FAILURE_MEMORY_MS = 30_000;
/**
 * Each failure in a row on one hive keeps the model off it twice as long, up to this: a policy
 * whose source is broken would otherwise start a doomed worker on every hive every 30 s for ever.
 */
const MAX_FAILURE_MEMORY_MS = 10 * 60_000;
/** A hive whose last failure for a model is this old starts its count anew. */
const FAILURE_COUNT_RESET_MS = 60 * 60_000;

export interface SpawnFailure {
  message: string;
  atMs: number;
  /** Failures in a row: the model is kept off for failureMemoryMs × 2^(count − 1). */
  count: number;
  /** Until when the model is kept off. */
  untilMs: number;
  /** Or until the hive's next hello: a spawn it cancelled (as it stopped) says nothing of a hive started again. */
  untilHello?: boolean;
  /** A failure on every hive that waiting will not mend (failEverywhere). */
  forGood?: boolean;
}

export class SpawnFailures {
  /** Model (or model@hive) → hive → its last spawn's failure there. */
  private readonly onHive = new Map<string, Map<string, SpawnFailure>>();
  /** Model → its last spawn's failure that keeps it off every hive. */
  private readonly everywhere = new Map<string, SpawnFailure>();

  constructor(
    private readonly now: () => number,
    private readonly log: (line: string) => void,
    private readonly memoryMs: number = DEFAULT_FAILURE_MEMORY_MS,
  ) {}

  /** The spawn for `key` on `hiveName` failed. */
  fail(key: string, hiveName: string, message: string, untilHello = false): void {
    const byHive = this.onHive.get(key) ?? new Map<string, SpawnFailure>();
    const failure = this.next(byHive.get(hiveName), message, untilHello);
    byHive.set(hiveName, failure);
    this.onHive.set(key, byHive);
    this.log(`auto-spawn failed: ${message}${failure.count > 1 ? ` (${failure.count} in a row there; not tried there again for ${seconds(failure)} s)` : ""}`);
  }

  /** A spawn of `model` failed in a way every hive would; `forGood`: waiting will not mend it. */
  failEverywhere(model: string, message: string, forGood: boolean): void {
    const failure = { ...this.next(this.everywhere.get(model), message), forGood };
    this.everywhere.set(model, failure);
    this.log(`auto-spawn failed: ${message} (no hive tries '${model}' again for ${seconds(failure)} s)`);
  }

  /** The spawn for `key` (of `model`) on `hiveName` worked: its failures there, and everywhere, are forgotten. */
  succeeded(key: string, model: string, hiveName: string): void {
    this.onHive.get(key)?.delete(hiveName);
    this.everywhere.delete(model);
  }

  /** `hiveName` said hello: the spawns it cancelled as it stopped count against it no more. */
  hiveHello(hiveName: string): void {
    for (const [key, byHive] of this.onHive) {
      if (byHive.get(hiveName)?.untilHello === true) byHive.delete(hiveName);
      if (byHive.size === 0) this.onHive.delete(key);
    }
  }

  /** The failure that keeps `model` off every hive now, if one does. */
  recentEverywhere(model: string): SpawnFailure | undefined {
    const failure = this.everywhere.get(model);
    if (failure === undefined) return undefined;
    const now = this.now();
    if (now - failure.atMs >= FAILURE_COUNT_RESET_MS) this.everywhere.delete(model);
    return now < failure.untilMs ? failure : undefined;
  }

  /** The hives the model is kept off now, for a spawn for `key` that failed there. */
  recentOnHives(key: string): ReadonlyMap<string, SpawnFailure> {
    const byHive = this.onHive.get(key);
    if (!byHive) return new Map();
    const now = this.now();
    const recent = new Map<string, SpawnFailure>();
    for (const [hiveName, failure] of byHive) {
      if (now - failure.atMs >= FAILURE_COUNT_RESET_MS) byHive.delete(hiveName);
      else if (now < failure.untilMs) recent.set(hiveName, failure);
    }
    if (byHive.size === 0) this.onHive.delete(key);
    return recent;
  }

  /** The failure after `before`: kept for the memory, twice as long for each one in a row. */
  private next(before: SpawnFailure | undefined, message: string, untilHello = false): SpawnFailure {
    const now = this.now();
    const count = before !== undefined && now - before.atMs < FAILURE_COUNT_RESET_MS ? before.count + 1 : 1;
    const memoryMs = Math.min(MAX_FAILURE_MEMORY_MS, this.memoryMs * 2 ** (count - 1));
    return { message, atMs: now, count, untilMs: now + memoryMs, ...(untilHello ? { untilHello } : {}) };
  }
}

function seconds(failure: SpawnFailure): number {
  return Math.round((failure.untilMs - failure.atMs) / 1000);
}
