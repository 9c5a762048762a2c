// Puts a job's events back in the order the hive numbered them. Events that arrive early are
// held until the gap before them fills; duplicates (numbers already passed) are dropped.

/** Early events held at most; beyond this the gap is given up on, not waited for. */
export const MAX_HELD_EVENTS = 1000;

export class EventOrder<T> {
  private readonly held = new Map<number, T>();

  constructor(private next: number) {}

  /** The seq the next in-order event must carry. */
  get nextSeq(): number {
    return this.next;
  }

  get holding(): boolean {
    return this.held.size > 0;
  }

  /** Takes event `seq`; returns the events now deliverable, in order (often just this one). */
  accept(seq: number, item: T): T[] {
    if (seq < this.next || this.held.has(seq)) return [];
    this.held.set(seq, item);
    if (this.held.size > MAX_HELD_EVENTS) return this.flush();
    const ready: T[] = [];
    for (let event = this.held.get(this.next); event !== undefined; event = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.next += 1;
      ready.push(event);
    }
    return ready;
  }

  /** Stops waiting for missing events: everything held, in order, skipping the gaps. */
  flush(): T[] {
    const seqs = [...this.held.keys()].sort((a, b) => a - b);
    const ready = seqs.map((seq) => this.held.get(seq)).filter((event): event is T => event !== undefined);
    this.held.clear();
    const last = seqs.at(-1);
    if (last !== undefined) this.next = last + 1;
    return ready;
  }
}
