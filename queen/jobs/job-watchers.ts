// The open Server-Sent Events streams of one job's watchers. Every watcher gets every event;
// a watcher that went away is dropped on its next write instead of failing the others. While
// any stream is open, a comment line goes out every so often: a long download can be quiet
// for minutes, and proxies and clients drop connections that carry nothing.
// A watcher that reads slower than the job talks would make this object hold an ever longer
// queue for it: once its unread bytes pass a bound, its stream gets a last comment and ends
// without a terminal event, so an EventSource reconnects with Last-Event-ID and resumes from
// the job's log at its own pace.
import type { StampedJobEvent } from "../../shared/protocol/job-event.js";

const encoder = new TextEncoder();

/** How often an open stream gets a keep-alive comment, ms. */
export const SSE_KEEP_ALIVE_MS = 15_000;
/** Unread bytes one watcher's stream may queue before it is ended (events are at most ~256 KiB). */
export const MAX_WATCHER_QUEUE_BYTES = 1024 * 1024;
const KEEP_ALIVE = encoder.encode(": keep-alive\n\n");

/** The last words to a watcher that fell behind; `seq` is the last event it was sent. */
function fellBehind(seq: number): Uint8Array {
  return encoder.encode(`: too far behind; reconnect with Last-Event-ID: ${seq} to resume\n\n`);
}

/** One watcher's stream, the newest event sent to it, and the unread bytes it may have. */
interface Watcher {
  controller: ReadableStreamDefaultController<Uint8Array>;
  lastSeq: number;
  maxQueuedBytes: number;
}

/** One SSE message; `id` lets a reconnecting EventSource resume with Last-Event-ID. */
export function sseMessage(event: StampedJobEvent): Uint8Array {
  return encoder.encode(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

export class JobWatchers {
  private readonly streams = new Set<Watcher>();
  private keepAlive: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly keepAliveMs = SSE_KEEP_ALIVE_MS,
    private readonly maxQueueBytes = MAX_WATCHER_QUEUE_BYTES,
  ) {}

  /** A stream that starts with `backlog`; it ends after the backlog when `ended`, else stays open. */
  open(backlog: StampedJobEvent[], ended: boolean): ReadableStream<Uint8Array> {
    let own: Watcher | undefined;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          let backlogBytes = 0;
          for (const event of backlog) {
            const message = sseMessage(event);
            backlogBytes += message.byteLength;
            controller.enqueue(message);
          }
          if (ended) {
            controller.close();
            return;
          }
          // The backlog (at most the log's 1,000 events) is owed whole; the bound is on top of it.
          own = { controller, lastSeq: backlog.at(-1)?.seq ?? 0, maxQueuedBytes: backlogBytes + this.maxQueueBytes };
          this.streams.add(own);
          this.keepAlive ??= setInterval(() => this.sendToAll(KEEP_ALIVE, undefined, false), this.keepAliveMs);
        },
        cancel: () => {
          if (own) this.forget(own);
        },
      },
      // Counted in bytes, so desiredSize tells how many are queued unread.
      { highWaterMark: this.maxQueueBytes, size: (chunk) => chunk.byteLength },
    );
  }

  /** Sends to every watcher; after a terminal event the streams are closed. */
  broadcast(event: StampedJobEvent, terminal: boolean): void {
    this.sendToAll(sseMessage(event), event.seq, terminal);
  }

  private sendToAll(message: Uint8Array, seq: number | undefined, close: boolean): void {
    for (const watcher of [...this.streams]) {
      const { controller } = watcher;
      try {
        const queuedBytes = this.maxQueueBytes - (controller.desiredSize ?? 0);
        if (!close && queuedBytes + message.byteLength > watcher.maxQueuedBytes) {
          controller.enqueue(fellBehind(watcher.lastSeq));
          controller.close();
          this.forget(watcher);
          continue;
        }
        controller.enqueue(message);
        if (seq !== undefined) watcher.lastSeq = seq;
        if (close) controller.close();
      } catch {
        this.forget(watcher); // the watcher's side is gone; nothing to deliver to
        continue;
      }
      if (close) this.forget(watcher);
    }
  }

  private forget(watcher: Watcher): void {
    this.streams.delete(watcher);
    if (this.streams.size > 0 || this.keepAlive === undefined) return;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  get size(): number {
    return this.streams.size;
  }
}
