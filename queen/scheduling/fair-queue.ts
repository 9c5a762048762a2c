// One model's waiting requests, fair between API keys: each key has its own FIFO sub-queue and
// the keys take turns (round-robin), so a client that sends a thousand requests waits behind its
// own, not in front of everyone else's. Entries pushed `ahead` (the continuation of an answer whose
// worker was lost: its client is mid-answer) wait in a lane of their own, served before any key's
// turn. The Dispatcher keeps one per model.

export interface Queued {
  keyId: string;
}

export class FairQueue<T extends Queued> {
  /** Sub-queues by key, in turn order: the key served last goes to the back. */
  private readonly byKey = new Map<string, T[]>();
  /** Entries served before every key's turn, oldest first. */
  private readonly ahead: T[] = [];
  /** Arrival order, for positions: entries that joined in the same millisecond still have one. */
  private readonly arrival = new Map<T, number>();
  private arrivals = 0;

  get size(): number {
    return this.arrival.size;
  }

  push(entry: T, options: { ahead?: boolean } = {}): void {
    this.arrivals += 1;
    this.arrival.set(entry, this.arrivals);
    if (options.ahead) {
      this.ahead.push(entry);
      return;
    }
    const own = this.byKey.get(entry.keyId);
    if (own) own.push(entry);
    else this.byKey.set(entry.keyId, [entry]);
  }

  /**
   * Takes the first entry `pick` finds a place for, looking at the keys in turn order and at each
   * key's entries oldest first (an entry pinned to a busy hive does not block its key's others).
   * The key it came from moves to the back of the turn order.
   */
  takeNext<P>(pick: (entry: T) => P | undefined): { entry: T; picked: P } | undefined {
    for (const [index, entry] of this.ahead.entries()) {
      const picked = pick(entry);
      if (picked === undefined) continue;
      this.ahead.splice(index, 1);
      this.arrival.delete(entry);
      return { entry, picked };
    }
    for (const [keyId, entries] of this.byKey) {
      for (let index = 0; index < entries.length; index += 1) {
        const entry = entries[index];
        const picked = entry === undefined ? undefined : pick(entry);
        if (entry === undefined || picked === undefined) continue;
        entries.splice(index, 1);
        this.byKey.delete(keyId);
        if (entries.length > 0) this.byKey.set(keyId, entries); // re-inserted: now last in turn
        this.arrival.delete(entry);
        return { entry, picked };
      }
    }
    return undefined;
  }

  remove(entry: T): boolean {
    const aheadAt = this.ahead.indexOf(entry);
    if (aheadAt >= 0) {
      this.ahead.splice(aheadAt, 1);
      this.arrival.delete(entry);
      return true;
    }
    const entries = this.byKey.get(entry.keyId);
    const index = entries?.indexOf(entry) ?? -1;
    if (!entries || index < 0) return false;
    entries.splice(index, 1);
    if (entries.length === 0) this.byKey.delete(entry.keyId);
    this.arrival.delete(entry);
    return true;
  }

  /** 1-based: how many waiting entries are served before `entry` (those ahead, then those that joined before it), plus one. */
  positionOf(entry: T): number {
    const aheadAt = this.ahead.indexOf(entry);
    if (aheadAt >= 0) return aheadAt + 1;
    const own = this.arrival.get(entry) ?? this.arrivals;
    let before = this.ahead.length;
    for (const [other, order] of this.arrival) if (order < own && !this.ahead.includes(other)) before += 1;
    return before + 1;
  }

  /** Every entry, in no particular order. */
  all(): T[] {
    return [...this.ahead, ...[...this.byKey.values()].flat()];
  }
}
