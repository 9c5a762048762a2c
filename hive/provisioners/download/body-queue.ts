// Takes a response body's chunks as they arrive, without losing any, for the downloads. When a
// connection breaks before the body's end, Node destroys the response and throws away what it
// still buffers; an async iterator over it (or fetch's web stream) then throws before handing over
// chunks that did arrive, and a resume fetched them again: on Node 22 all of a 100 kB body cut
// early was lost that way (and a response nobody listened to yet, while the part file was being
// prepared, lost everything and never even said so). So a BodyQueue listens from the moment the
// answer arrives ('data' events, into a queue of our own), reads out what the response buffered
// while paused when its error comes, and surfaces the error only after the last byte was taken.
import type { IncomingMessage } from "node:http";

/** Bytes held in the queue before the response is paused (the disk is slower than the network). */
export const QUEUE_HIGH_WATER_BYTES = 8 * 1024 * 1024;

export class BodyQueue {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly body: IncomingMessage,
    private readonly highWaterBytes = QUEUE_HIGH_WATER_BYTES,
  ) {
    body.on("data", this.onData);
    body.once("end", this.onEnd);
    body.once("error", this.fail);
    body.once("close", this.onClose);
  }

  /** Every chunk in order; throws the connection's error after the last chunk that arrived. */
  async *chunks(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        const chunk = this.queue.shift();
        if (chunk !== undefined) {
          this.queued -= chunk.length;
          if (this.body.isPaused() && this.queued < this.highWaterBytes / 2 && !this.ended && this.failure === null) this.body.resume();
          yield chunk;
        } else if (this.failure !== null) {
          throw this.failure;
        } else if (this.ended) {
          return;
        } else {
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      }
    } finally {
      this.discard();
    }
  }

  /** Lets the connection go (an answer not read, or read no further); safe to call twice. */
  discard(): void {
    this.body.off("data", this.onData);
    this.body.off("end", this.onEnd);
    this.body.off("close", this.onClose);
    this.body.off("error", this.fail);
    this.body.on("error", () => {}); // a late error of a body given up on is no one's to handle
    this.body.destroy();
    this.queue.length = 0;
  }

  private readonly onData = (chunk: Buffer) => {
    this.take(chunk);
    if (this.queued >= this.highWaterBytes) this.body.pause();
    this.notify();
  };

  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };

  private readonly onClose = () => {
    if (!this.ended) this.fail(new Error("the connection closed before the body ended"));
  };

  private readonly fail = (error: Error) => {
    this.body.off("data", this.onData); // read() below may emit 'data' too; each chunk must be taken once
    // Checked on Node 20 and 22: the destroyed response still hands out what it buffered.
    for (let chunk: Buffer | null = this.body.read(); chunk !== null; chunk = this.body.read()) this.take(chunk);
    this.failure ??= error;
    this.notify();
  };

  private take(chunk: Buffer): void {
    this.queue.push(chunk);
    this.queued += chunk.length;
  }

  private notify(): void {
    this.wake?.();
    this.wake = null;
  }
}
