// Where the events of one stream wait: held until the response exists, then written to it in
// batches. Writing through hono's stream helper is a chain of web-stream promises; run inline in
// node-llama-cpp's token callback it delayed the next token (streamed tokens/s fell 5–8% in
// bench/worker-throughput.ts), deferred it runs while llama.cpp computes that token. Tokens that
// arrive within one turn share one write.
//
// Each write is one send syscall on the socket, which on loopback also runs the reader's side of
// TCP and wakes it: a CPU profile of the worker streaming the tiny model (~1,100 tokens/s) showed
// ~100 µs of `writev` per token on the main thread, its largest cost per token. Deferring the
// write does not take it off the token's path: node-llama-cpp needs the main thread between its
// decode and sample steps, and on a busy machine the write's CPU is taken from llama.cpp. So
// while events keep coming, writes are spaced at least `minWriteIntervalMs` apart and carry every
// event since the last one; the first event, and any event after a quiet gap, still leaves on
// the next turn, so time to first token is unchanged. A hive relaying the stream asks for the
// interval it gathers text by itself (STREAM_WRITE_INTERVAL_HEADER, read in ./event-stream.ts).

import { performance } from "node:perf_hooks";

/** What the batch writes to: hono's stream (StreamingApi) in the worker. */
export interface EventSink {
  write(text: string): unknown;
}

export const DEFAULTS = {
  /**
   * Shortest time between two writes while events arrive faster, in ms. 5 ms: a model slower
   * than 200 tokens/s still gets one write per token; the tiny model on one CPU thread (~1,000
   * tokens/s) ~5 tokens per write, which no reader sees but the CPU does.
   */
  minWriteIntervalMs: 5,
} as const;

export class EventBatch {
  private pending = "";
  private sink: EventSink | undefined;
  /** Cancels the scheduled write; undefined when none is scheduled. */
  private cancelScheduled: (() => void) | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly minWriteIntervalMs: number = DEFAULTS.minWriteIntervalMs) {}

  /** Queues one event's text for the next write. */
  add(event: string): void {
    this.pending += event;
    if (this.sink === undefined || this.cancelScheduled !== undefined) return;
    const wait = this.lastWriteAt + this.minWriteIntervalMs - performance.now();
    if (wait > 0) {
      const timer = setTimeout(() => this.flush(), wait);
      this.cancelScheduled = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.flush());
      this.cancelScheduled = () => clearImmediate(immediate);
    }
  }

  /** Starts writing to `sink`; what was queued until now goes out at once. */
  attach(sink: EventSink): void {
    this.sink = sink;
    this.flush();
  }

  /** Writes what is queued now; the stream calls it last, before it closes. */
  flush(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = undefined;
    if (this.sink === undefined || this.pending === "") return;
    this.sink.write(this.pending);
    this.pending = "";
    this.lastWriteAt = performance.now();
  }
}
