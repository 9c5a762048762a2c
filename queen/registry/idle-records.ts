// What the idle reaper must still know after the Registry is evicted: when each worker last
// finished a request, and the keep-alive the last request that asked for one asked for. The
// worker table is memory only and comes back from the hives' snapshots, but a worker's idleness
// cannot: without these, every worker back from a snapshot counted as used just then. An idle
// queen's Registry is evicted sooner (about 10 s locally, a minute or two on Cloudflare) than the
// default keep-alive of 5 minutes, and the alarm set for that keep-alive then woke an object that
// had forgotten why; idle workers were never unloaded.
//
// One stored key per worker, written when one of its requests ends and deleted when it goes.

/** When a worker last finished a request, and the keep-alive asked for it (absent: none was). */
export interface IdleRecord {
  lastActiveAtMs: number;
  keepAliveMs?: number;
}

const IDLE_KEY_PREFIX = "idle:";

export class IdleRecords {
  /** Read back at start, for workers not yet back in the table; each is taken once. */
  private readonly restored = new Map<string, IdleRecord>();

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Reads what an earlier instance stored (the Registry's start). */
  async load(): Promise<void> {
    for (const [key, record] of await this.storage.list<IdleRecord>({ prefix: IDLE_KEY_PREFIX })) {
      this.restored.set(key.slice(IDLE_KEY_PREFIX.length), record);
    }
  }

  /** The stored record of a worker coming back into the table after a wake, once. */
  take(workerId: string): IdleRecord | undefined {
    const record = this.restored.get(workerId);
    this.restored.delete(workerId);
    return record;
  }

  /** A request on `workerId` ended. Not awaited: the Durable Object's output gate holds its answers until it is stored. */
  record(workerId: string, record: IdleRecord): void {
    void this.storage.put(IDLE_KEY_PREFIX + workerId, record);
  }

  /** The worker went. */
  forget(workerId: string): void {
    this.restored.delete(workerId);
    void this.storage.delete(IDLE_KEY_PREFIX + workerId);
  }

  /** Drops the stored records no worker came back for (after the wake's snapshots are in). */
  forgetUnclaimed(): void {
    for (const workerId of [...this.restored.keys()]) this.forget(workerId);
  }
}
