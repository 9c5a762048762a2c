// The part of one relayed response the hive still holds, by byte offset (UTF-8, as the queen
// counts): everything the queen has not acknowledged, and a margin behind its last ack, so that a
// queen that lost the socket or its object can ask for the rest from where its client is
// (relay-flow.ts). Used by RequestRelay.
import { RELAY_REPLAY_MARGIN_BYTES, RELAY_WINDOW_BYTES } from "../../shared/protocol/relay-flow.js";

interface Piece {
  /** Byte offset of the piece's first byte in the response body. */
  offset: number;
  bytes: number;
  text: string;
}

export class ResponseBuffer {
  private readonly pieces: Piece[] = [];
  /** Index of the first piece still held (pieces before it were trimmed). */
  private first = 0;
  private acked = 0;
  /** Bytes of the body read from the worker so far. */
  endOffset = 0;

  /** Holds `text`, the next part of the body; returns its size in bytes. */
  append(text: string): number {
    const bytes = Buffer.byteLength(text, "utf8");
    this.pieces.push({ offset: this.endOffset, bytes, text });
    this.endOffset += bytes;
    return bytes;
  }

  /** Bytes read but not yet acknowledged: the relay stops reading at RELAY_WINDOW_BYTES. */
  get unacked(): number {
    return this.endOffset - this.acked;
  }

  get windowFull(): boolean {
    return this.unacked >= RELAY_WINDOW_BYTES;
  }

  /** Bytes held in memory right now (what the hive's debug line reports). */
  get heldBytes(): number {
    const first = this.pieces[this.first];
    return first === undefined ? 0 : this.endOffset - first.offset;
  }

  /** The queen passed everything before `offset` on; what lies further back than the margin goes. */
  ack(offset: number): void {
    this.acked = Math.min(this.endOffset, Math.max(this.acked, offset));
    const keepFrom = this.acked - RELAY_REPLAY_MARGIN_BYTES;
    while (this.first < this.pieces.length) {
      const piece = this.pieces[this.first];
      if (piece === undefined || piece.offset + piece.bytes > keepFrom) break;
      this.pieces[this.first] = { offset: piece.offset, bytes: 0, text: "" };
      this.first += 1;
    }
    // Compact now and then rather than shifting the array on every ack.
    if (this.first > 1024 && this.first * 2 > this.pieces.length) {
      this.pieces.splice(0, this.first);
      this.first = 0;
    }
  }

  /** The body from `offset` to what was read so far, or undefined when part of it is gone already. */
  from(offset: number): string | undefined {
    if (offset > this.endOffset) return undefined;
    const start = this.pieces[this.first]?.offset ?? this.endOffset;
    if (offset < start) return undefined;
    // A resume starts at most a window and a margin back: a scan from the end is short.
    let index = this.pieces.length - 1;
    while (index >= this.first && (this.pieces[index]?.offset ?? 0) > offset) index -= 1;
    const parts: string[] = [];
    for (let at = Math.max(index, this.first); at < this.pieces.length; at += 1) {
      const piece = this.pieces[at];
      if (piece === undefined) continue;
      // The queen resumes at a character boundary: it never passes on half a character.
      parts.push(offset > piece.offset ? Buffer.from(piece.text, "utf8").subarray(offset - piece.offset).toString("utf8") : piece.text);
    }
    return parts.join("");
  }
}
