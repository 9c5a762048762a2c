// Where the events of one stream wait: held until the response exists, then written to it in
// one batch per turn of the event loop. Writing through hono's stream helper is a chain of
// web-stream promises; run inline in node-llama-cpp's token callback it delayed the next token
// (streamed tokens/s fell 5–8% in bench/worker-throughput.ts), deferred it runs while llama.cpp
// computes that token. Tokens that arrive within one turn share one write.

/** What the batch writes to: hono's stream (StreamingApi) in the worker. */
export interface EventSink {
  write(text: string): unknown;
}

export class EventBatch {
  private pending = "";
  private sink: EventSink | undefined;
  private scheduled = false;

  /** Queues one event's text for the next write. */
  add(event: string): void {
    this.pending += event;
    if (this.sink === undefined || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Starts writing to `sink`; what was queued until now goes out at once. */
  attach(sink: EventSink): void {
    this.sink = sink;
    this.flush();
  }

  /** Writes what is queued now; the stream calls it last, before it closes. */
  flush(): void {
    this.scheduled = false;
    if (this.sink === undefined || this.pending === "") return;
    this.sink.write(this.pending);
    this.pending = "";
  }
}
