// Workers a HiveSession dropped for silence while their hive stayed connected: hung (a GPU driver
// stuck in a call, a stopped process), no use to anyone, yet holding their memory and their
// device, so a worker that would answer cannot be started in their place. One still silent
// `stopAfterMs` after its last heartbeat is due to be stopped (the session submits a
// worker_delete: the hive checks that the PID is that worker, then SIGTERM and SIGCONT, then
// SIGKILL); one heard again before that was only slow, and is left alone. Kept in the session's
// storage, so a session evicted meanwhile still stops it.
import { z } from "zod";
import { deleteKeys } from "./delete-keys.js";

const KEY_PREFIX = "wedged:";

const WedgedWorker = z.object({
  pid: z.number().int().positive(),
  /** When its last heartbeat was heard, ms since the epoch. */
  lastHeardMs: z.number(),
});
type WedgedWorker = z.infer<typeof WedgedWorker>;

export interface DueWorker {
  workerId: string;
  pid: number;
  silentMs: number;
}

export class WedgedWorkers {
  private readonly wedged = new Map<string, WedgedWorker>();

  constructor(
    private readonly storage: DurableObjectStorage,
    /** How long a worker may stay silent before it is stopped, ms; 0: never. */
    private readonly stopAfterMs: () => number,
  ) {}

  async load(): Promise<void> {
    for (const [key, value] of await this.storage.list({ prefix: KEY_PREFIX })) {
      const parsed = WedgedWorker.safeParse(value);
      if (parsed.success) this.wedged.set(key.slice(KEY_PREFIX.length), parsed.data);
    }
  }

  /** Workers just dropped for silence; those without a known PID cannot be stopped, and are not kept. */
  async add(workers: ReadonlyArray<{ workerId: string; pid?: number; lastHeardMs?: number }>): Promise<void> {
    if (this.stopAfterMs() === 0) return;
    for (const { workerId, pid, lastHeardMs } of workers) {
      if (pid === undefined || lastHeardMs === undefined) continue;
      const record = { pid, lastHeardMs };
      this.wedged.set(workerId, record);
      await this.storage.put(KEY_PREFIX + workerId, record);
    }
  }

  /** The worker was heard from, stopped or forgotten: it is not to be stopped (again). */
  async drop(workerIds: readonly string[]): Promise<void> {
    const known = workerIds.filter((workerId) => this.wedged.delete(workerId));
    await deleteKeys(this.storage, known.map((workerId) => KEY_PREFIX + workerId));
  }

  /** The workers silent for `stopAfterMs` by `nowMs`. */
  due(nowMs: number): DueWorker[] {
    const stopAfterMs = this.stopAfterMs();
    if (stopAfterMs === 0) return [];
    return [...this.wedged]
      .filter(([, worker]) => nowMs - worker.lastHeardMs >= stopAfterMs)
      .map(([workerId, worker]) => ({ workerId, pid: worker.pid, silentMs: nowMs - worker.lastHeardMs }));
  }

  /** When the next worker falls due, if any is kept. */
  nextDueMs(): number | undefined {
    const stopAfterMs = this.stopAfterMs();
    if (stopAfterMs === 0 || this.wedged.size === 0) return undefined;
    return Math.min(...[...this.wedged.values()].map((worker) => worker.lastHeardMs)) + stopAfterMs;
  }
}
