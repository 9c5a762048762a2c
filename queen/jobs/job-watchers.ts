// The open Server-Sent Events streams of one job's watchers. Every watcher gets every event;
// a watcher that went away is dropped on its next write instead of failing the others. While
// any stream is open, a comment line goes out every so often: a long download can be quiet
// for minutes, and proxies and clients drop connections that carry nothing.
import type { StampedJobEvent } from "../../shared/protocol/job-event.js";

const encoder = new TextEncoder();

/** How often an open stream gets a keep-alive comment, ms. */
export const SSE_KEEP_ALIVE_MS = 15_000;
const KEEP_ALIVE = encoder.encode(": keep-alive\n\n");

/** One SSE message; `id` lets a reconnecting EventSource resume with Last-Event-ID. */
export function sseMessage(event: StampedJobEvent): Uint8Array {
  return encoder.encode(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

export class JobWatchers {
  private readonly streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  private keepAlive: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly keepAliveMs = SSE_KEEP_ALIVE_MS) {}

  /** A stream that starts with `backlog`; it ends after the backlog when `ended`, else stays open. */
  open(backlog: StampedJobEvent[], ended: boolean): ReadableStream<Uint8Array> {
    let own: ReadableStreamDefaultController<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        for (const event of backlog) controller.enqueue(sseMessage(event));
        if (ended) {
          controller.close();
          return;
        }
        own = controller;
        this.streams.add(controller);
        this.keepAlive ??= setInterval(() => this.sendToAll(KEEP_ALIVE, false), this.keepAliveMs);
      },
      cancel: () => {
        if (own) this.forget(own);
      },
    });
  }

  /** Sends to every watcher; after a terminal event the streams are closed. */
  broadcast(event: StampedJobEvent, terminal: boolean): void {
    this.sendToAll(sseMessage(event), terminal);
  }

  private sendToAll(message: Uint8Array, close: boolean): void {
    for (const controller of [...this.streams]) {
      try {
        controller.enqueue(message);
        if (close) controller.close();
      } catch {
        this.forget(controller); // the watcher's side is gone; nothing to deliver to
        continue;
      }
      if (close) this.forget(controller);
    }
  }

  private forget(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.streams.delete(controller);
    if (this.streams.size > 0 || this.keepAlive === undefined) return;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  get size(): number {
    return this.streams.size;
  }
}
