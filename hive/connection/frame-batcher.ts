// Sends the hive's frames to the queen one message per turn of the event loop: the frames sent
// within one turn wait for setImmediate and leave together, as one `batch` message when there are
// several (shared/protocol/hive-frames.ts). A non-streamed answer's head, body and end come off
// the worker's socket in one read and so leave as one message instead of three, and a stream's
// head and first token often do too: each message costs the queen's Durable Object an event and
// each end of the socket a write and a wake-up. Nothing waits longer than the current turn.
//
// A hello or a ping never travels in a batch (the queen's auto-response matches the ping's exact
// text), nor does a batch: what is queued leaves first, then the frame, so the order holds.
import { type BatchableFrame, type HiveToQueenFrame, MAX_BATCH_FRAMES } from "../../shared/protocol/hive-frames.js";

/**
 * The frames of a batch, in characters at most: a frame that would take it past this leaves in the
 * next message. Past tens of KiB a message's own cost no longer shows, and a big batch only holds
 * the frames after it back: on a slow uplink the queen hears nothing until a message has come
 * whole, and 64 KiB at 20 KB/s is 3 s (its congestion check, queen/hive-session/socket-liveness.ts,
 * needs a message within three heartbeat intervals). A frame bigger than this leaves alone, as it
 * would unbatched (a worker's read is at most 64 KiB).
 */
export const MAX_BATCH_CHARS = 64 * 1024;

export interface FrameBatcherOptions {
  /** Whether the socket is open now: a frame for a closed one is refused, and a flush to one that closed meanwhile drops its frames. */
  isOpen: () => boolean;
  /** Writes one message to the open socket. */
  write: (text: string) => void;
  /** Default MAX_BATCH_CHARS. */
  maxBatchChars?: number;
  /** Schedules the flush; default setImmediate. */
  schedule?: (flush: () => void) => void;
}

export class FrameBatcher {
  /** Queued frames, each already JSON. */
  private queued: string[] = [];
  private queuedChars = 0;
  private scheduled = false;
  private readonly maxBatchChars: number;
  private readonly schedule: (flush: () => void) => void;

  constructor(private readonly options: FrameBatcherOptions) {
    this.maxBatchChars = options.maxBatchChars ?? MAX_BATCH_CHARS;
    this.schedule = options.schedule ?? ((flush) => setImmediate(flush));
  }

  /**
   * Queues `frame` for this turn's message (a hello, a ping or a batch leaves at once, after what
   * is queued). Returns false when the socket is closed: the frame is not sent.
   */
  send(frame: HiveToQueenFrame): boolean {
    if (!this.options.isOpen()) return false;
    if (frame.type === "hello" || frame.type === "ping" || frame.type === "batch") {
      this.flush();
      this.options.write(JSON.stringify(frame));
      return true;
    }
    const text = JSON.stringify(frame satisfies BatchableFrame);
    if (this.queued.length >= MAX_BATCH_FRAMES || this.queuedChars + text.length > this.maxBatchChars) this.flush();
    this.queued.push(text);
    this.queuedChars += text.length;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
    return true;
  }

  /** Sends what is queued now: one frame as itself, several as one batch. */
  flush(): void {
    this.scheduled = false;
    const frames = this.queued;
    if (frames.length === 0) return;
    this.queued = [];
    this.queuedChars = 0;
    if (!this.options.isOpen()) return; // the socket went this turn: its frames went with it
    // The frames are JSON already: the batch is spliced together rather than serialised again.
    this.options.write(frames.length === 1 ? (frames[0] as string) : `{"type":"batch","frames":[${frames.join(",")}]}`);
  }

  /** Drops what is queued (the socket went: those frames would have been lost with it). */
  clear(): void {
    this.queued = [];
    this.queuedChars = 0;
  }
}
