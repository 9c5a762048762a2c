// Passes a response body through unchanged while watching it for OpenAI's `usage`: the whole
// body of a JSON response, or the `data:` events of a server-sent-event stream (the usage chunk
// that `stream_options.include_usage` asks for). Nothing is held back from the client.
import { NO_TOKENS, type TokenUsage, usageOfJson } from "./token-usage.js";

export type BodyKind = "json" | "sse";

/** Most of a JSON body kept to find its usage; past it only the tail is searched (bytes, ~chars). */
const MAX_JSON_KEPT_CHARS = 4 * 1024 * 1024;
const JSON_TAIL_CHARS = 64 * 1024;
/** An SSE line longer than this is not a usage chunk; it is skipped rather than buffered. */
const MAX_SSE_LINE_CHARS = 1024 * 1024;

export interface ObservedBody {
  body: ReadableStream<Uint8Array>;
  /** Settles once the body ended, failed or was cancelled by the client, with what was seen. */
  usage: Promise<TokenUsage>;
}

/**
 * A pull-based stream rather than a TransformStream: a TransformStream's `flush` never runs when
 * the client cancels, and the usage promise must settle then too (ctx.waitUntil waits on it).
 */
export function observeUsage(source: ReadableStream<Uint8Array>, kind: BodyKind): ObservedBody {
  const reader = source.getReader();
  const watcher = kind === "json" ? new JsonUsageWatcher() : new SseUsageWatcher();
  let settle: (usage: TokenUsage) => void = () => {};
  const usage = new Promise<TokenUsage>((resolve) => {
    settle = resolve;
  });
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            settle(watcher.finish());
            controller.close();
            return;
          }
          watcher.push(value);
          controller.enqueue(value);
        } catch (error) {
          settle(watcher.finish());
          controller.error(error);
        }
      },
      async cancel(reason) {
        settle(watcher.finish());
        await reader.cancel(reason);
      },
    },
    // Read from the source only as fast as the client reads: no buffering ahead.
    { highWaterMark: 0 },
  );
  return { body, usage };
}

interface UsageWatcher {
  push(chunk: Uint8Array): void;
  finish(): TokenUsage;
}

class JsonUsageWatcher implements UsageWatcher {
  private readonly decoder = new TextDecoder();
  private text = "";
  private truncated = false;

  push(chunk: Uint8Array): void {
    this.text += this.decoder.decode(chunk, { stream: true });
    if (this.text.length > MAX_JSON_KEPT_CHARS) {
      this.truncated = true;
      this.text = this.text.slice(-JSON_TAIL_CHARS);
    }
  }

  finish(): TokenUsage {
    this.text += this.decoder.decode();
    if (!this.truncated) return usageOfJson(this.text) ?? NO_TOKENS;
    // A huge body (many embeddings): OpenAI-style bodies end with their usage object.
    const match = /"usage"\s*:\s*(\{[^{}]*\})/.exec(this.text);
    const usageObject = match?.[1];
    return (usageObject === undefined ? undefined : usageOfJson(`{"usage":${usageObject}}`)) ?? NO_TOKENS;
  }
}

class SseUsageWatcher implements UsageWatcher {
  private readonly decoder = new TextDecoder();
  private line = "";
  private skippingLine = false;
  private seen: TokenUsage | undefined;

  push(chunk: Uint8Array): void {
    const lines = (this.line + this.decoder.decode(chunk, { stream: true })).split("\n");
    this.line = lines.pop() ?? "";
    for (const line of lines) {
      if (!this.skippingLine) this.onLine(line);
      this.skippingLine = false;
    }
    if (this.line.length > MAX_SSE_LINE_CHARS) {
      this.line = "";
      this.skippingLine = true;
    }
  }

  finish(): TokenUsage {
    if (!this.skippingLine) this.onLine(this.line + this.decoder.decode());
    return this.seen ?? NO_TOKENS;
  }

  private onLine(line: string): void {
    // Only the usage chunk is parsed; token chunks are passed by after a substring check.
    if (!line.startsWith("data:") || !line.includes('"usage"')) return;
    const usage = usageOfJson(line.slice("data:".length).trim());
    if (usage) this.seen = usage;
  }
}
