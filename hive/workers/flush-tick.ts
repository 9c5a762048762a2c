// One clock for every answer the hive relays: a stream whose text must wait (./chunk-coalescer.ts)
// waits for the next tick instead of a timer of its own, so the waiting text of every stream in
// flight is sent in the same turn of the event loop, and the FrameBatcher carries it to the queen
// as one message (hive/connection/frame-batcher.ts). Each message costs the queen's Durable Object
// an event and each end of the socket a write and a wake-up; with 64 streams on per-stream timers
// that was up to 64 messages an interval, with the tick it is one.
//
// The interval grows with the event streams in flight (a whole answer goes at once, a frame or two
// whatever the interval). Each stream's frame in a tick still costs the queen its own work (the
// stream's pump, the route's stages, the write to its client), the worker a write and the hive a
// read: 64 streams ticked every 15 ms cost ~4,000 frames a second, CPU that on a shared machine is
// taken from the worker's generation. Once the streams outnumber the base interval's milliseconds,
// the interval is a millisecond per stream: one hive sends about a frame per millisecond in all,
// however many streams it relays, and at 64 streams a reader sees its text every 64 ms. There,
// aggregate tokens/s through the queen went from ×0.71–0.75 to ×0.86 of direct on two cores
// (bench/README.md, streams).

export const FLUSH_TICK = {
  /**
   * The interval with few streams in flight: how long text waits at most while tokens keep
   * coming, in ms. A reader still sees text 33 times a second, and a fast stream costs half the
   * frames it did at 15 ms: relayed tiny-model streams kept a median 0.89 of direct's pace after
   * their first token at 15 ms (five runs), 0.96 at 30 ms (nine; bench/README.md, relay).
   */
  baseIntervalMs: 30,
  /** The interval is at least this many ms per stream in flight. */
  perStreamMs: 1,
  /** The longest interval, in ms: a reader still sees text ten times a second. */
  maxIntervalMs: 100,
} as const;

export class FlushTick {
  private readonly waiting = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private streams = 0;

  /** The longest a waiting flush waits now, in ms: it grows with the streams in flight. */
  get intervalMs(): number {
    return intervalFor(this.streams);
  }

  /** The interval once one more stream joins, in ms: what a stream about to start is relayed at. */
  get nextIntervalMs(): number {
    return intervalFor(this.streams + 1);
  }

  /** One more stream is relayed on this tick; the returned function says it ended (once, however often called). */
  join(): () => void {
    this.streams += 1;
    let joined = true;
    return () => {
      if (!joined) return;
      joined = false;
      this.streams -= 1;
    };
  }

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

/** A whole number of ms: the worker reads it from a header that takes whole milliseconds. */
function intervalFor(streams: number): number {
  const { baseIntervalMs, perStreamMs, maxIntervalMs } = FLUSH_TICK;
  return Math.ceil(Math.min(maxIntervalMs, Math.max(baseIntervalMs, streams * perStreamMs)));
}
