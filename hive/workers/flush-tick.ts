// One clock for every answer the hive relays: a stream whose text must wait (./chunk-coalescer.ts)
// waits for the next tick instead of a timer of its own, so the waiting text of every stream in
// flight is sent in the same turn of the event loop, and the FrameBatcher carries it to the queen
// as one message (hive/connection/frame-batcher.ts). Each message costs the queen's Durable Object
// an event and each end of the socket a write and a wake-up; with 64 streams on per-stream timers
// that was up to 64 messages an interval, with the tick it is one.

export class FlushTick {
  private readonly waiting = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `intervalMs`: the longest a waiting flush waits. */
  constructor(readonly intervalMs: number) {}

  /** Calls `flush` at the next tick, with every other flush waiting then; once, however often it is asked. */
  wait(flush: () => void): void {
    this.waiting.add(flush);
    this.timer ??= setTimeout(() => this.tick(), this.intervalMs);
  }

  /** `flush` no longer waits (it was sent early, or dropped). */
  leave(flush: () => void): void {
    this.waiting.delete(flush);
    if (this.waiting.size > 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    this.timer = undefined;
    const due = [...this.waiting];
    this.waiting.clear();
    for (const flush of due) flush();
  }
}
