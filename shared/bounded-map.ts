// A Map that holds at most `capacity` entries and forgets the oldest-set first: for per-process
// caches that clients fill (unknown API keys, refused addresses), whose memory must stay bounded
// whatever arrives. Setting an entry again makes it the newest.

export class BoundedMap<K, V> {
  // A Map iterates in insertion order, so its first key is the oldest entry.
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    while (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
