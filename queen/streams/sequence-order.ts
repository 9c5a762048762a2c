// Puts numbered items back in the order their sender numbered them: a job's events (JobSession)
// and a relayed response's chunks (PendingRelay). Items that arrive early are held until the gap
// before them fills; duplicates (numbers already passed or already held) are dropped. How many
// may be held is bounded, and what to do past the bound is the caller's choice: a job gives up
// on the gap (`flush`), a response fails.

export class SequenceOrder<T> {
  private readonly held = new Map<number, T>();
  private heldSizeTotal = 0;

  /**
   * @param next the number the first in-order item carries.
   * @param maxHeld early items held at most before `overflowing` says the gap is not just late.
   * @param sizeOf an item's size, summed over the items held (`heldSize`): a count alone does not bound what 4,096 of them weigh.
   */
  constructor(
    private next: number,
    private readonly maxHeld: number,
    private readonly sizeOf: (item: T) => number = () => 0,
  ) {}

  /** The size of the items held behind a gap, by `sizeOf`. */
  get heldSize(): number {
    return this.heldSizeTotal;
  }

  /** The number the next in-order item must carry. */
  get nextSeq(): number {
    return this.next;
  }

  get holding(): boolean {
    return this.held.size > 0;
  }

  /** More than `maxHeld` items wait behind a gap: the caller should stop waiting for it. */
  get overflowing(): boolean {
    return this.held.size > this.maxHeld;
  }

  /** Takes item `seq`; returns the items now deliverable, in order (often just this one). */
  accept(seq: number, item: T): T[] {
    if (seq < this.next || this.held.has(seq)) return [];
    if (seq !== this.next) {
      this.held.set(seq, item);
      this.heldSizeTotal += this.sizeOf(item);
      return [];
    }
    const ready: T[] = [item];
    this.next += 1;
    for (let next = this.held.get(this.next); next !== undefined; next = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.heldSizeTotal -= this.sizeOf(next);
      this.next += 1;
      ready.push(next);
    }
    return ready;
  }

  /** Stops waiting for missing items: everything held, in order, skipping the gaps. */
  flush(): T[] {
    const seqs = [...this.held.keys()].sort((a, b) => a - b);
    const ready = seqs.map((seq) => this.held.get(seq)).filter((item): item is T => item !== undefined);
    this.held.clear();
    this.heldSizeTotal = 0;
    const last = seqs.at(-1);
    if (last !== undefined) this.next = last + 1;
    return ready;
  }

  /** Drops everything held (the stream is over). */
  clear(): void {
    this.held.clear();
    this.heldSizeTotal = 0;
  }
}
