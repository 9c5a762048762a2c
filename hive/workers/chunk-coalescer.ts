// Coalesces a worker's streamed text into few frames for the queen, but only when there is a
// backlog: text that arrives after a quiet gap (the first token, a token after a pause) is sent
// at once, and text that arrives within `intervalMs` of the last send waits until `intervalMs`
// after it, together with whatever else came meanwhile. A token stream thus costs the queen's
// Durable Object at most one frame per interval, and a client's first token waits for nothing.
export interface ChunkCoalescerOptions {
  /** Least time between two sends while text keeps coming, ms. */
  intervalMs: number;
  /** Buffered text sent at once, whatever the interval, in characters. */
  maxChars: number;
  send: (text: string) => void;
  now?: () => number;
}

export class ChunkCoalescer {
  private buffered = "";
  private lastSentAtMs = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ChunkCoalescerOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  push(text: string): void {
    if (text.length === 0) return;
    this.buffered += text;
    if (this.timer !== undefined && this.buffered.length < this.options.maxChars) return; // a send is due already
    const sinceLastMs = this.now() - this.lastSentAtMs;
    if (sinceLastMs >= this.options.intervalMs || this.buffered.length >= this.options.maxChars) this.flush();
    else this.timer = setTimeout(() => this.flush(), this.options.intervalMs - sinceLastMs);
  }

  /** Sends whatever is buffered now (the worker's answer ended, or failed). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffered.length === 0) return;
    const text = this.buffered;
    this.buffered = "";
    this.lastSentAtMs = this.now();
    this.options.send(text);
  }

  /** Drops a pending send without sending (the relay was aborted). */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
