// The open Server-Sent Events streams of one job's watchers. Every watcher gets every event;
// a watcher that went away is dropped on its next write instead of failing the others.
import type { StampedJobEvent } from "../../shared/protocol/job-event.js";

const encoder = new TextEncoder();

/** One SSE message; `id` lets a reconnecting EventSource resume with Last-Event-ID. */
export function sseMessage(event: StampedJobEvent): Uint8Array {
  return encoder.encode(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

export class JobWatchers {
  private readonly streams = new Set<ReadableStreamDefaultController<Uint8Array>>();

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
      },
      cancel: () => {
        if (own) this.streams.delete(own);
      },
    });
  }

  /** Sends to every watcher; after a terminal event the streams are closed. */
  broadcast(event: StampedJobEvent, terminal: boolean): void {
    const message = sseMessage(event);
    for (const controller of [...this.streams]) {
      try {
        controller.enqueue(message);
        if (terminal) controller.close();
      } catch {
        // The watcher's side is gone; nothing to deliver to.
      }
      if (terminal) this.streams.delete(controller);
    }
  }

  get size(): number {
    return this.streams.size;
  }
}
