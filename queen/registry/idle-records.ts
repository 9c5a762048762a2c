// What the idle reaper must still know after the Registry is evicted: when each worker last
// finished a request, and the keep-alive the last request that asked for one asked for. The
// worker table is memory only and comes back from the hives' snapshots, but a worker's idleness
// cannot: without these, every worker back from a snapshot counted as used just then. An idle
// queen's Registry is evicted sooner (about 10 s locally, a minute or two on Cloudflare) than the
// default keep-alive of 5 minutes, and the alarm set for that keep-alive then woke an object that
// had forgotten why; idle workers were never unloaded.
//
// One stored key per worker, deleted when it goes. A write costs the Registry ~0.8 ms of CPU
// locally (measured with bench relay), too much for every request: the time stored is
// RECORD_AHEAD_MS past the request's end, and later ends before that time write nothing. So the
// stored time is never earlier than the last request's end, and an evicted Registry unloads a
// worker at most RECORD_AHEAD_MS late, never early.

/**
 * When a worker last finished a request, and the keep-alive asked for it (absent: none was); and
 * since when it is resident (loaded and known to the queen), which the swap policy's minimum
 * residency counts from: a woken Registry had counted it from the wake, and every swap after a
 * quiet spell waited out the whole minimum again.
 */
export interface IdleRecord {
  lastActiveAtMs: number;
  keepAliveMs?: number;
  residentSinceMs?: number;
}

const IDLE_KEY_PREFIX = "idle:";
/** How far past a request's end the stored time lies, so that one write covers the requests of that long, ms. */
export const RECORD_AHEAD_MS = 2_000;

export class IdleRecords {
  /** Read back at start, for workers not yet back in the table; each is taken once. */
  private readonly restored = new Map<string, IdleRecord>();
  /** What this instance stored for each worker. */
  private readonly written = new Map<string, IdleRecord>();

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Reads what an earlier instance stored (the Registry's start). */
  async load(): Promise<void> {
    for (const [key, record] of await this.storage.list<IdleRecord>({ prefix: IDLE_KEY_PREFIX })) {
      this.restored.set(key.slice(IDLE_KEY_PREFIX.length), record);
    }
  }

  /**
   * The stored record of a worker coming back into the table: after a wake (read back, once), or
   * after its hive's socket dropped and came back (what this instance wrote).
   */
  take(workerId: string): IdleRecord | undefined {
    const record = this.restored.get(workerId) ?? this.written.get(workerId);
    this.restored.delete(workerId);
    return record;
  }

  /**
   * A request on `workerId` ended at `lastActiveAtMs`, and `keepAliveMs` is the keep-alive asked
   * for it. Not awaited: the Durable Object's output gate holds its answers until it is stored.
   */
  record(workerId: string, { lastActiveAtMs, keepAliveMs, residentSinceMs }: IdleRecord): void {
    const written = this.written.get(workerId);
    if (written && written.keepAliveMs === keepAliveMs && lastActiveAtMs <= written.lastActiveAtMs) return;
    const since = residentSinceMs ?? written?.residentSinceMs;
    const record: IdleRecord = {
      lastActiveAtMs: lastActiveAtMs + RECORD_AHEAD_MS,
      ...(keepAliveMs === undefined ? {} : { keepAliveMs }),
      ...(since === undefined ? {} : { residentSinceMs: since }),
    };
    this.written.set(workerId, record);
    void this.storage.put(IDLE_KEY_PREFIX + workerId, record);
  }

  /** The worker went. */
  forget(workerId: string): void {
    this.restored.delete(workerId);
    this.written.delete(workerId);
    void this.storage.delete(IDLE_KEY_PREFIX + workerId);
  }

  /**
   * Drops the stored records no worker came back for (after the wake's snapshots are in), but
   * those of workers `expectedBack` (their hive is reconnecting after a queen restart).
   */
  forgetUnclaimed(expectedBack: (workerId: string) => boolean = () => false): void {
    for (const workerId of [...this.restored.keys()]) if (!expectedBack(workerId)) this.forget(workerId);
  }
}
