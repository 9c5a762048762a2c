// One client request in flight through a hive: the response head the route handler awaits and
// the body stream that response_chunk frames feed until response_end. Chunks are put back in
// sequence order before they reach the client, and the body ends only once every chunk the
// hive announced in its response_end has arrived.
//
// Flow control (shared/protocol/relay-flow.ts): the body is pull-based, so a chunk leaves this
// object only when the client's side of the stream asks for it, and what was pulled is
// acknowledged to the hive every RELAY_ACK_BYTES (and at the end). The hive sends at most
// RELAY_WINDOW_BYTES unacknowledged, so a client that stops reading holds at most that much here.
// Positions are byte offsets into the body; a relay resumed by the route starts at one.
import { RbeeError } from "../../shared/errors.js";
import { RELAY_ACK_BYTES } from "../../shared/protocol/relay-flow.js";
import { joinBytes } from "../streams/join-bytes.js";
import { SequenceOrder } from "../streams/sequence-order.js";

export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

/** Out-of-order chunks held back at most; beyond this the stream is broken, not late. */
const MAX_EARLY_CHUNKS = 4096;
/** How long an announced end waits for missing chunks before giving up, in ms. */
const MISSING_CHUNKS_TIMEOUT_MS = 5000;

const encoder = new TextEncoder();

export class PendingRelay {
  readonly head: Promise<ResponseHead>;
  readonly body: ReadableStream<Uint8Array>;
  private resolveHead: (head: ResponseHead) => void = () => {};
  private rejectHead: (error: RbeeError) => void = () => {};
  private finished = false;
  private cancelled = false;
  private streamingEvents = false;
  private headReceived = false;
  private order = new SequenceOrder<string>(0, MAX_EARLY_CHUNKS);
  private announcedEnd: { chunks: number; error: RbeeError | undefined; timer: ReturnType<typeof setTimeout> } | undefined;
  /** Received in order, not yet pulled by the client's side. */
  private readonly queue: Uint8Array[] = [];
  /** How the body ends once the queue is drained: closed, or failed with an error. */
  private closing: { error: RbeeError | undefined } | undefined;
  private wakePull: (() => void) | undefined;
  /** Byte offsets into the body: received in order, pulled by the client's side, acknowledged to the hive. */
  private receivedOffset: number;
  private pulledOffset: number;
  private ackedOffset: number;

  constructor(
    private readonly hooks: {
      /** The client went away (or the route handler gave up): tell the hive to stop. */
      onCancel: () => void;
      /** The relay is over, however it ended; forget it. */
      onFinish: () => void;
      /** The client's side pulled the body up to `offset`: tell the hive (response_ack). */
      onAck: (offset: number) => void;
    },
    /** The byte offset the body starts at: 0, or where a resumed response goes on from. */
    startOffset = 0,
  ) {
    this.receivedOffset = startOffset;
    this.pulledOffset = startOffset;
    this.ackedOffset = startOffset;
    this.head = new Promise((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    this.body = new ReadableStream<Uint8Array>({ pull: (controller) => this.pull(controller), cancel: () => this.cancel() }, { highWaterMark: 0 });
  }

  /** Bytes of the body received in order so far (from the start of the response): where a resume goes on from. */
  get received(): number {
    return this.receivedOffset;
  }

  /** The client went away: stop feeding the body and tell the hive, once. */
  cancel(): void {
    if (this.finished) return;
    this.cancelled = true;
    this.finish();
    this.queue.length = 0;
    this.closing = { error: undefined };
    this.wakePull?.();
    this.hooks.onCancel();
  }

  receiveHead(head: ResponseHead): void {
    this.streamingEvents = (head.headers["content-type"] ?? "").startsWith("text/event-stream");
    this.headReceived = true;
    this.resolveHead(head);
    this.endIfComplete();
  }

  receiveChunk(seq: number, data: string): void {
    if (this.finished) return;
    for (const ready of this.order.accept(seq, data)) {
      const bytes = encoder.encode(ready);
      this.receivedOffset += bytes.byteLength;
      this.queue.push(bytes);
    }
    this.wakePull?.();
    if (this.order.overflowing) {
      this.end(new RbeeError(502, "response_out_of_order", `the hive's response skipped chunk ${this.order.nextSeq}`));
      return;
    }
    this.endIfComplete();
  }

  /** The hive's response_end: the body ends once `chunks` chunks were delivered. */
  receiveEnd(chunks: number, error?: RbeeError): void {
    if (this.finished || this.announcedEnd) return;
    const timer = setTimeout(() => {
      this.end(new RbeeError(502, "response_incomplete", `the hive announced ${chunks} chunks but only ${this.order.nextSeq} arrived`));
    }, MISSING_CHUNKS_TIMEOUT_MS);
    this.announcedEnd = { chunks, error, timer };
    this.endIfComplete();
  }

  /**
   * The hive is asked to go on from `received` on a new socket: its chunks are numbered from 0
   * again, and an end it announced on the old one is void (it announces it again).
   */
  resuming(): void {
    this.order = new SequenceOrder<string>(0, MAX_EARLY_CHUNKS);
    if (this.announcedEnd) clearTimeout(this.announcedEnd.timer);
    this.announcedEnd = undefined;
  }

  /**
   * Ends the body once what arrived was pulled. An error before the head fails the head (the
   * client gets a clean error response); an error mid-stream becomes a final SSE `error` event,
   * which the OpenAI SDKs raise as an APIError, rather than a silently truncated stream.
   */
  end(error?: RbeeError): void {
    if (this.finished) return;
    this.finish();
    if (error) this.rejectHead(error);
    else this.resolveHead({ status: 502, headers: {} }); // an end without a head: no-op otherwise
    if (error && this.streamingEvents) {
      this.queue.push(encoder.encode(`data: ${JSON.stringify(error.toBody())}\n\n`));
      this.closing = { error: undefined };
    } else {
      this.closing = { error };
      // A failed body is failed at once: what was queued is no use without its end.
      if (error) this.queue.length = 0;
    }
    this.wakePull?.();
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (this.queue.length === 0 && !this.closing) await new Promise<void>((resolve) => (this.wakePull = resolve));
    this.wakePull = undefined;
    if (this.cancelled) return; // the reader's cancel closed the stream already
    // Everything waiting goes as one chunk: a backlog costs the route's stream one read, not one per frame.
    const next = this.queue.length > 1 ? joinBytes(this.queue.splice(0)) : this.queue.shift();
    if (next !== undefined) {
      controller.enqueue(next);
      this.pulledOffset += next.byteLength;
      if (this.pulledOffset - this.ackedOffset >= RELAY_ACK_BYTES) this.ack();
    }
    if (this.queue.length > 0 || !this.closing) return;
    if (this.closing.error) controller.error(this.closing.error);
    else controller.close();
    // All of it pulled: the hive may forget the answer.
    if (!this.closing.error && this.pulledOffset > this.ackedOffset) this.ack();
  }

  private ack(): void {
    this.ackedOffset = this.pulledOffset;
    this.hooks.onAck(this.ackedOffset);
  }

  private endIfComplete(): void {
    const end = this.announcedEnd;
    if (!end || this.order.nextSeq < end.chunks) return;
    // workerd may hand this object a socket's frames out of order (a chunk or the end ahead of the
    // head: seen under a burst of relays): an answer waits for its head, or it would read as a
    // bodiless 502. Only a failure before any byte (no chunks, an error) comes without one.
    if (this.headReceived || (end.error !== undefined && end.chunks === 0)) this.end(end.error);
  }

  private finish(): void {
    this.finished = true;
    if (this.announcedEnd) clearTimeout(this.announcedEnd.timer);
    this.order.clear();
    this.hooks.onFinish();
  }
}

