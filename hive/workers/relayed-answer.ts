// The hive's end of one relayed answer: its frames to the queen, numbered, counted against the
// flow-control window (./relay-window.ts), and kept for a resume.
//
// When the queen socket drops (a deploy resets the queen's Durable Objects and drops every hive
// socket), the answer is detached: the worker's answer is still read, up to the window, and kept,
// but nothing is sent. The queen's request handler still holds the client's request, and once
// the hive is back it asks for the rest (a `resume` frame with the byte offset the client got
// to). The answer then goes to the new socket as if it were new: its head again, the body from
// that offset in chunks numbered from 0, and its end if the worker finished meanwhile. The client
// reads one stream, and the worker generated every token once.
import type { HiveToQueenFrame, RelayEndCode } from "../../shared/protocol/hive-frames.js";
import { EVENT_END_BYTE, RELAY_REPLAY_BEHIND_BYTES } from "../../shared/protocol/relay-flow.js";
import type { RelayWindow } from "./relay-window.js";

export type FrameSink = (frame: HiveToQueenFrame) => void;

/** Why an answer was cut short, or cannot be resumed. */
export interface RelayProblem {
  code: RelayEndCode;
  message: string;
}

export class RelayedAnswer {
  private sink: FrameSink | undefined;
  private seq = 0;
  private chunks = 0;
  private head: { status: number; headers: Record<string, string> } | undefined;
  private ending: { error?: RelayProblem } | undefined;
  /** The body sent so far from byte `keptFrom` on, chunk by chunk as sent. */
  private kept: Buffer[] = [];
  private keptFrom = 0;

  constructor(
    private readonly requestId: string,
    sink: FrameSink,
    readonly window: RelayWindow,
  ) {
    this.sink = sink;
  }

  /** False while the queen socket it was going to is gone and no resume has come. */
  get attached(): boolean {
    return this.sink !== undefined;
  }

  /** The worker's answer is over (whole, or cut short). */
  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** For the relay's log line: the worker's status, the chunks of its answer, why it was cut short. */
  get summary(): { status: number | null; chunks: number; error: RelayProblem | undefined } {
    return { status: this.head?.status ?? null, chunks: this.chunks, error: this.ending?.error };
  }

  sendHead(status: number, headers: Record<string, string>): void {
    this.head = { status, headers };
    this.sink?.({ type: "response_head", requestId: this.requestId, status, headers });
  }

  sendChunk(data: string): void {
    const bytes = Buffer.from(data, "utf8");
    this.window.add(bytes.byteLength);
    this.kept.push(bytes);
    this.forgetAcknowledged();
    this.chunks += 1;
    this.sink?.({ type: "response_chunk", requestId: this.requestId, seq: this.seq++, data });
  }

  sendEnd(error?: RelayProblem): void {
    this.ending = error ? { error } : {};
    this.sink?.(this.endFrame());
  }

  /** The queen's client side pulled the body up to byte `offset`. */
  ack(offset: number): void {
    this.window.ack(offset);
    this.forgetAcknowledged();
  }

  /** The queen socket dropped: keep reading and keeping, send nothing. */
  detach(): void {
    this.sink = undefined;
  }

  /**
   * Sends the answer to `sink` from byte `offset` of its body on (the head first), and goes on
   * sending there; a problem, and nothing sent, when that part of the body is no longer kept or
   * `offset` is not where an event ends.
   */
  resume(offset: number, sink: FrameSink): RelayProblem | undefined {
    const refusal = this.refusal(offset);
    if (refusal) return { code: "resume_unavailable", message: refusal };
    this.sink = sink;
    this.seq = 0;
    if (this.head) sink({ type: "response_head", requestId: this.requestId, ...this.head });
    let position = this.keptFrom;
    for (const bytes of this.kept) {
      const end = position + bytes.byteLength;
      // An event ends at `offset`, so it never falls inside a character.
      if (end > offset) sink({ type: "response_chunk", requestId: this.requestId, seq: this.seq++, data: bytes.subarray(Math.max(0, offset - position)).toString("utf8") });
      position = end;
    }
    if (this.ending) sink(this.endFrame());
    return undefined;
  }

  private refusal(offset: number): string | undefined {
    const sent = this.window.sent;
    if (offset > sent) return `the hive sent ${sent} bytes of the answer, fewer than the ${offset} asked to resume from`;
    if (offset === 0) return undefined;
    if (offset - 2 < this.keptFrom) return `the hive keeps the answer from byte ${this.keptFrom} on, after the ${offset} asked to resume from`;
    // The queen resumes where the client's last whole event ended: after its blank line.
    if (this.byteAt(offset - 1) !== EVENT_END_BYTE || this.byteAt(offset - 2) !== EVENT_END_BYTE) return `byte ${offset} of the answer is not where an event ends`;
    return undefined;
  }

  private byteAt(offset: number): number | undefined {
    let position = this.keptFrom;
    for (const bytes of this.kept) {
      if (offset < position + bytes.byteLength) return bytes[offset - position];
      position += bytes.byteLength;
    }
    return undefined;
  }

  /** Drops what the queen acknowledged, but for the RELAY_REPLAY_BEHIND_BYTES a reset may still lose. */
  private forgetAcknowledged(): void {
    const keepFrom = this.window.acked - RELAY_REPLAY_BEHIND_BYTES;
    while (this.kept.length > 0 && this.keptFrom + this.kept[0]!.byteLength <= keepFrom) {
      this.keptFrom += this.kept.shift()!.byteLength;
    }
  }

  private endFrame(): HiveToQueenFrame {
    const error = this.ending?.error;
    return { type: "response_end", requestId: this.requestId, chunks: this.seq, ...(error ? { error } : {}) };
  }
}
