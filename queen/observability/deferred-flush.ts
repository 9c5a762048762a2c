// When an isolate sends what it collected across requests (metrics samples, usage counts): a
// while after the first item since the last send, under the ctx.waitUntil of the request that
// brought that item, so a busy isolate makes one call a `delayMs`, not one per request, and never
// on a response's path. metrics/metrics-reporter.ts and usage/record-usage.ts keep the batches.
export class DeferredFlush {
  private scheduled = false;

  constructor(private readonly delayMs: number) {}

  /**
   * An item joined the batch: `flush` (which sends the batch and empties it, and must not reject)
   * runs `delayMs` from now unless a flush is due already, or at once when the batch is `full`.
   */
  added(waitUntil: (promise: Promise<unknown>) => void, flush: () => Promise<void>, full: boolean): void {
    if (full) {
      waitUntil(this.run(flush));
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    waitUntil(new Promise((resolve) => setTimeout(resolve, this.delayMs)).then(() => this.run(flush)));
  }

  private run(flush: () => Promise<void>): Promise<void> {
    this.scheduled = false;
    return flush();
  }
}
