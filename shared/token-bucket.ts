// A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`; each take spends
// one or more. Used by the queen's HiveSession to cap the frames one hive socket may send. The clock is
// injectable so tests need not wait.

export class TokenBucket {
  private tokens: number;
  private refilledAtMs: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.refilledAtMs = now();
  }

  /** Spends `count` tokens if there are that many; false (spending none) when there are not. */
  take(count = 1): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAtMs) / 1000) * this.refillPerSecond);
    this.refilledAtMs = now;
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }
}
