// One client request in flight through a hive: the response head the route handler awaits and
// the body stream that response_chunk frames feed until response_end. Chunks are put back in
// sequence order before they reach the client, and the body ends only once every chunk the
// hive announced in its response_end has arrived.
//
// Flow control (shared/protocol/relay-flow.ts): the body's queue counts bytes, and as the
// client's side pulls from it the relay acknowledges to the hive every RELAY_ACK_BYTES pulled.
// The hive sends at most RELAY_WINDOW_BYTES ahead of the acks, so a client that stops reading
// holds at most that much of the answer here. Chunks are enqueued as they arrive, and a hive that
// does not keep to the window (more than MAX_UNACKED_BYTES received and not acknowledged, chunks
// held behind a gap included) has its relay failed: a hive cannot fill the queen's memory by
// sending without acks.
import { RbeeError } from "../../shared/errors.js";
import { EVENT_END, RELAY_ACK_BYTES, RELAY_END_ACK_BYTES, RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";
import { isEventStreamType } from "../../shared/http/event-stream.js";
import type { AnswerType } from "../../shared/protocol/relayed-head.js";
import { SequenceOrder } from "../streams/sequence-order.js";
import { MAX_WHOLE_ANSWER_CHARS } from "./whole-answer.js";

export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

/** Out-of-order chunks held back at most; beyond this the stream is broken, not late. */
const MAX_EARLY_CHUNKS = 4096;
/**
 * Bytes of an answer received and not yet acknowledged, at most. An honest hive stays within the
 * window plus what it read and sent before it saw the window full (one read of the worker, a
 * coalesced frame of at most 64 Ki characters), and the acks in flight only make the queen's count
 * smaller than the hive's: twice the window is never reached by one.
 */
export const MAX_UNACKED_BYTES = 2 * RELAY_WINDOW_BYTES;
/** How long an announced end waits for missing chunks before giving up, in ms. */
const MISSING_CHUNKS_TIMEOUT_MS = 5000;

const encoder = new TextEncoder();

export class PendingRelay {
  readonly head: Promise<ResponseHead>;
  readonly body: ReadableStream<Uint8Array>;
  private resolveHead: (head: ResponseHead) => void = () => {};
  private rejectHead: (error: RbeeError) => void = () => {};
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private finished = false;
  private streamingEvents = false;
  /** The body so far ends where an event ends (or is empty): an error event may follow it. */
  private atEventEnd = true;
  /** The head's status, once it has come. */
  private headStatus: number | undefined;
  // Held chunks are weighed in characters: no more than their bytes, and no encoding per chunk.
  private readonly order = new SequenceOrder<string>(0, MAX_EARLY_CHUNKS, (chunk) => chunk.length);
  private announcedEnd: { chunks: number; error: RbeeError | undefined; timer: ReturnType<typeof setTimeout> } | undefined;
  /**
   * A non-streamed answer's text as it comes, while it is short (./whole-answer.ts); undefined for
   * an event stream, or once longer than MAX_WHOLE_ANSWER_CHARS.
   */
  private textSoFar: string[] | undefined;
  private textChars = 0;
  /** The body ended with every chunk and no error. */
  private endedWhole = false;
  /** How the relay failed, once it has. */
  private failedWith: RbeeError | undefined;
  /** Body bytes enqueued so far, and those acknowledged to the hive as pulled. */
  private enqueuedBytes = 0;
  private ackedBytes = 0;

  constructor(
    private readonly hooks: {
      /** The client went away (or the route handler gave up): tell the hive to stop. */
      onCancel: () => void;
      /** The relay is over, however it ended; forget it. */
      onFinish: () => void;
      /** The client's side pulled the body up to byte `offset`: tell the hive (response_ack). */
      onAck: (offset: number) => void;
    },
    /** Where in the answer's body this body starts: a resume's offset, 0 for a new request. Acks count from the answer's start. */
    startOffset = 0,
    /** The worker answering, when the frame named it (a resume's does not). */
    readonly workerId?: string,
    /** What a successful answer must be, when the request said (shared/protocol/relayed-head.ts). */
    readonly answerType?: AnswerType,
  ) {
    this.enqueuedBytes = startOffset;
    this.ackedBytes = startOffset;
    this.head = new Promise((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        // Called as the client's side takes from the queue (and after each enqueue): the moment to acknowledge.
        pull: (controller) => this.acknowledgePulled(controller),
        // The reader cancelled: the stream is closed already, and closing it again would throw.
        cancel: () => this.cancel(false),
      },
      // desiredSize then tells how many bytes wait in the queue: what was enqueued less those is what was pulled.
      { highWaterMark: RELAY_WINDOW_BYTES, size: (chunk) => chunk.byteLength },
    );
  }

  /**
   * The worker answering is gone while the client still waits: the hive is told to stop, and the
   * route reads `error` (as the head's refusal, or as a last event), which has it go on elsewhere.
   */
  abandon(error: RbeeError): void {
    if (this.finished) return;
    this.hooks.onCancel();
    this.end(error);
  }

  /** The client went away: stop feeding the body and tell the hive, once. */
  cancel(closeBody = true): void {
    if (this.finished) return;
    this.finish();
    this.hooks.onCancel();
    if (closeBody) this.controller?.close();
  }

  receiveHead(head: ResponseHead): void {
    this.headStatus = head.status;
    this.streamingEvents = isEventStreamType(head.headers["content-type"]);
    if (!this.streamingEvents && this.order.nextSeq === 0) this.textSoFar = [];
    this.resolveHead(head);
    this.endIfComplete();
  }

  receiveChunk(seq: number, data: string): void {
    if (this.finished) return;
    for (const ready of this.order.accept(seq, data)) {
      const bytes = encoder.encode(ready);
      if (ready.length > 0) this.atEventEnd = ready.endsWith(EVENT_END);
      this.keepText(ready);
      this.enqueuedBytes += bytes.byteLength;
      this.controller?.enqueue(bytes);
    }
    if (this.order.overflowing) {
      // The hive is still sending (and would wait for acks that never come): stop it.
      this.hooks.onCancel();
      this.end(new RbeeError(502, "response_out_of_order", `the hive's response skipped chunk ${this.order.nextSeq}`));
      return;
    }
    const unacked = this.enqueuedBytes - this.ackedBytes + this.order.heldSize;
    if (unacked > MAX_UNACKED_BYTES) {
      this.hooks.onCancel();
      this.end(new RbeeError(502, "relay_window_exceeded", `the hive sent ${unacked} bytes the queen had not acknowledged, past the relay window of ${RELAY_WINDOW_BYTES}`));
      return;
    }
    this.endIfComplete();
  }

  /** The hive's response_end: the body ends once `chunks` chunks were delivered. */
  receiveEnd(chunks: number, error?: RbeeError): void {
    if (this.finished || this.announcedEnd) return;
    // Those chunks reached the body already: the answer is not what the hive says it is.
    if (this.order.nextSeq > chunks) return this.refuseEnd(`announced ${chunks} chunks after ${this.order.nextSeq} had come`);
    const timer = setTimeout(() => {
      const missing = this.order.nextSeq < chunks ? `the hive announced ${chunks} chunks but only ${this.order.nextSeq} arrived` : "the hive ended its answer without its head";
      this.end(new RbeeError(502, "response_incomplete", missing));
    }, MISSING_CHUNKS_TIMEOUT_MS);
    this.announcedEnd = { chunks, error, timer };
    this.endIfComplete();
  }

  /**
   * Ends the body now. An error before the head fails the head (the client gets a clean error
   * response); an error mid-stream becomes a final SSE `error` event, which the OpenAI SDKs
   * raise as an APIError, rather than a silently truncated stream. Mid-event (the hive's last
   * chunk ended inside one) an event appended would be glued to the cut one and read as neither:
   * - when only the way to the hive broke (`wayBroke`: its socket dropped), the body fails, as any
   *   body cut short does, and the route resumes the answer from the client's last whole event;
   * - otherwise the answer itself is over (the hive said so, or broke the protocol): the cut event
   *   is ended where it stands, which reads as a broken event and has the route continue the answer
   *   elsewhere, and the error event follows it. A failed body would read as a broken way, and the
   *   route would ask a hive that has nothing more to resume it.
   */
  end(error?: RbeeError, wayBroke = false): void {
    if (this.finished) return;
    this.finish();
    this.failedWith = error;
    this.endedWhole = error === undefined && this.headStatus !== undefined;
    // The hive keeps an answer it finished with a long unacknowledged rest until that is
    // acknowledged (RELAY_END_ACK_BYTES): all of it has come, so it may let go.
    if (this.announcedEnd && this.enqueuedBytes - this.ackedBytes >= RELAY_END_ACK_BYTES) {
      this.ackedBytes = this.enqueuedBytes;
      this.hooks.onAck(this.enqueuedBytes);
    }
    if (error) this.rejectHead(error);
    else this.resolveHead({ status: 502, headers: {} }); // an end without a head: no-op otherwise
    const asEvent = error !== undefined && this.streamingEvents && (this.atEventEnd || !wayBroke);
    if (asEvent) this.controller?.enqueue(encoder.encode(`${this.atEventEnd ? "" : EVENT_END}data: ${JSON.stringify(error.toBody())}\n\n`));
    if (error && !asEvent) this.controller?.error(error);
    else this.controller?.close();
  }

  /**
   * The error the relay ended with, if it has. Read as the head comes: an answer whose body failed
   * in the very message that brought its head (a chunk past the window, a wrong count) has sent
   * the client nothing yet, and fails as a refusal rather than as a body cut off.
   */
  get failure(): RbeeError | undefined {
    return this.failedWith;
  }

  /**
   * The whole body as text, when the answer is not an event stream, is short, and has ended with
   * every chunk and no error; otherwise undefined, and the body is to be read from `body`.
   */
  wholeText(): string | undefined {
    return this.endedWhole && this.textSoFar ? this.textSoFar.join("") : undefined;
  }

  private keepText(text: string): void {
    if (!this.textSoFar) return;
    this.textChars += text.length;
    if (this.textChars > MAX_WHOLE_ANSWER_CHARS) this.textSoFar = undefined;
    else this.textSoFar.push(text);
  }

  private acknowledgePulled(controller: ReadableStreamDefaultController<Uint8Array>): void {
    if (this.finished || controller.desiredSize === null) return;
    const queuedBytes = RELAY_WINDOW_BYTES - controller.desiredSize;
    const pulledBytes = this.enqueuedBytes - queuedBytes;
    if (pulledBytes - this.ackedBytes < RELAY_ACK_BYTES) return;
    this.ackedBytes = pulledBytes;
    this.hooks.onAck(pulledBytes);
  }

  private endIfComplete(): void {
    const end = this.announcedEnd;
    if (!end || this.order.nextSeq < end.chunks) return;
    // No answer of a worker's is empty: a client would parse nothing, or take it for a blank answer.
    const status = this.headStatus;
    const empty = end.error === undefined && status !== undefined && !this.streamingEvents && this.enqueuedBytes === 0;
    if (empty && status >= 200 && status < 300) return this.refuseEnd("ended a successful answer that has no body");
    // workerd may hand this object a socket's frames out of order (a chunk or the end ahead of the
    // head: seen under a burst of relays): an answer waits for its head, or it would read as a
    // bodiless 502. Only a failure before any byte (no chunks, an error) comes without one.
    if (status !== undefined || (end.error !== undefined && end.chunks === 0)) this.end(end.error);
  }

  /** The hive's end breaks the protocol: the relay fails as the hive's fault, and the hive is told to stop. */
  private refuseEnd(problem: string): void {
    this.hooks.onCancel();
    this.end(new RbeeError(502, "invalid_response_frame", `the hive's response_end ${problem}`));
  }

  private finish(): void {
    this.finished = true;
    if (this.announcedEnd) clearTimeout(this.announcedEnd.timer);
    this.order.clear();
    this.hooks.onFinish();
  }
}
