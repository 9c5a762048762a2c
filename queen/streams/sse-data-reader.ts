// Reads the `data` of each event of a server-sent-event stream as its bytes arrive, parsed by
// eventsource-parser: LF, CR and CRLF line ends, and events whose data spans several lines. The
// queen's one SSE reader: streams/spliced-stream.ts follows a relayed answer event by event with
// it (to continue it elsewhere, and to count its tokens), and dialects/chat-stream-reader.ts
// reads the chat stream it translates.
import { createParser, type EventSourceParser, type ParseError } from "eventsource-parser";

/**
 * Most characters of one event buffered across chunks. A token chunk or a usage chunk is a few
 * hundred bytes; an event past this is not one, and buffering it would let one endless line fill
 * the isolate's memory. The parser gives up on such an event, and the reader resumes at the next
 * line end.
 */
export const MAX_SSE_EVENT_CHARS = 1024 * 1024;

export interface SseDataHandlers {
  /** The data of one complete event (several `data:` lines joined by "\n"). */
  onData: (data: string) => void;
  /** An event longer than MAX_SSE_EVENT_CHARS was skipped. */
  onOversized?: () => void;
}

export class SseDataReader {
  private readonly decoder = new TextDecoder();
  private readonly parser: EventSourceParser;
  /** Dropping the rest of an over-long line, up to its line end. */
  private skippingLine = false;

  constructor(private readonly handlers: SseDataHandlers) {
    this.parser = createParser({
      maxBufferSize: MAX_SSE_EVENT_CHARS,
      onEvent: (event) => this.handlers.onData(event.data),
      onError: (error) => this.onParseError(error),
    });
  }

  push(chunk: Uint8Array): void {
    this.feed(this.decoder.decode(chunk, { stream: true }));
  }

  /** The stream is over: a last event it ended without a blank line after still counts. */
  end(): void {
    this.feed(`${this.decoder.decode()}\n\n`);
  }

  private feed(text: string): void {
    let rest = text;
    if (this.skippingLine) {
      const lineEnd = rest.search(/[\r\n]/);
      if (lineEnd === -1) return;
      this.skippingLine = false;
      rest = rest.slice(lineEnd + 1);
    }
    this.parser.feed(rest);
  }

  private onParseError(error: ParseError): void {
    if (error.type !== "max-buffer-size-exceeded") return; // a stray field: no event is lost
    // The parser stops after this until reset; what is left of the long line is skipped.
    this.parser.reset();
    this.skippingLine = true;
    this.handlers.onOversized?.();
  }
}
