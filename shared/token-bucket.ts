// A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`; each take spends
// one. Used by the queen's HiveSession to cap the frames one hive socket may send. The clock is
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

  /** Spends one token if there is one; false when the bucket is empty. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAtMs) / 1000) * this.refillPerSecond);
    this.refilledAtMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
