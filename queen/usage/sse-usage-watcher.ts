// Finds the usage chunk in a server-sent-event stream (observe-usage.ts), parsed by
// eventsource-parser: LF, CR and CRLF line ends, and events whose data spans several lines.
import { createParser, type EventSourceParser, type ParseError } from "eventsource-parser";
import type { UsageWatcher } from "./observe-usage.js";
import { NO_TOKENS, type TokenUsage, usageOfJson } from "./token-usage.js";

/**
 * Most characters of one event buffered across chunks. A usage chunk is a few hundred bytes; an
 * event past this is not one, and buffering it would let one endless line fill the isolate's
 * memory. The parser gives up on such an event, and the watcher resumes at the next line end, so
 * a usage chunk after it is still counted.
 */
const MAX_SSE_EVENT_CHARS = 1024 * 1024;

export class SseUsageWatcher implements UsageWatcher {
  private readonly decoder = new TextDecoder();
  private readonly parser: EventSourceParser = createParser({
    maxBufferSize: MAX_SSE_EVENT_CHARS,
    onEvent: (event) => this.onData(event.data),
    onError: (error) => this.onParseError(error),
  });
  /** Dropping the rest of an over-long line, up to its line end. */
  private skippingLine = false;
  private seen: TokenUsage | undefined;

  push(chunk: Uint8Array): void {
    this.feed(this.decoder.decode(chunk, { stream: true }));
  }

  finish(): TokenUsage {
    // A stream that stops without a blank line still had its last event: end it as if it had one.
    this.feed(`${this.decoder.decode()}\n\n`);
    return this.seen ?? NO_TOKENS;
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
    if (error.type !== "max-buffer-size-exceeded") return; // a stray field: nothing to do with usage
    // The parser stops after this until reset; what is left of the long line is skipped.
    this.parser.reset();
    this.skippingLine = true;
  }

  private onData(data: string): void {
    // Only the usage chunk is parsed; token chunks are passed by after a substring check.
    if (!data.includes('"usage"')) return;
    const usage = usageOfJson(data);
    if (usage) this.seen = usage;
  }
}
