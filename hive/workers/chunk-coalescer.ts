// Coalesces a worker's streamed text into few frames for the queen, but only when there is a
// backlog: text that arrives after a quiet gap (the first token, a token after a pause) is sent
// at once, and text that arrives within the tick's interval of the last send waits for the next
// tick (./flush-tick.ts), together with whatever else came meanwhile, and with the waiting text
// of every other stream. A token stream thus costs the queen's Durable Object about one frame per
// interval, the streams in flight share one message per tick, and a client's first token waits
// for nothing.
import type { FlushTick } from "./flush-tick.js";

export interface ChunkCoalescerOptions {
  /** The hive's clock for waiting text; its interval is also the quiet gap after which text goes at once. */
  tick: FlushTick;
  /** Buffered text sent at once, whatever the interval, in characters. */
  maxChars: number;
  send: (text: string) => void;
  now?: () => number;
}

export class ChunkCoalescer {
  private buffered = "";
  private lastSentAtMs = Number.NEGATIVE_INFINITY;
  private waiting = false;
  private readonly now: () => number;
  private readonly onTick = () => {
    this.waiting = false;
    this.flush();
  };

  constructor(private readonly options: ChunkCoalescerOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  push(text: string): void {
    if (text.length === 0) return;
    this.buffered += text;
    if (this.waiting && this.buffered.length < this.options.maxChars) return; // the next tick sends it
    const sinceLastMs = this.now() - this.lastSentAtMs;
    if (sinceLastMs >= this.options.tick.intervalMs || this.buffered.length >= this.options.maxChars) this.flush();
    else {
      this.waiting = true;
      this.options.tick.wait(this.onTick);
    }
  }

  /** Sends whatever is buffered now (the worker's answer ended, or failed). */
  flush(): void {
    this.stopWaiting();
    if (this.buffered.length === 0) return;
    const text = this.buffered;
    this.buffered = "";
    this.lastSentAtMs = this.now();
    this.options.send(text);
  }

  /** Drops a pending send without sending (the relay was aborted). */
  dispose(): void {
    this.stopWaiting();
  }

  private stopWaiting(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.options.tick.leave(this.onTick);
  }
}
