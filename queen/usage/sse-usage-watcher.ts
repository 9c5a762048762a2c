// Finds the usage chunk in a server-sent-event stream (observe-usage.ts), read by the queen's
// one SSE reader (streams/sse-data-reader.ts). An event too long to buffer is skipped, so a
// usage chunk after it is still counted.
import { SseDataReader } from "../streams/sse-data-reader.js";
import type { UsageWatcher } from "./observe-usage.js";
import { NO_TOKENS, type TokenUsage, usageOfJson } from "./token-usage.js";

export class SseUsageWatcher implements UsageWatcher {
  private readonly reader = new SseDataReader({ onData: (data) => this.onData(data) });
  private seen: TokenUsage | undefined;

  push(chunk: Uint8Array): void {
    this.reader.push(chunk);
  }

  finish(): TokenUsage {
    this.reader.end();
    return this.seen ?? NO_TOKENS;
  }

  private onData(data: string): void {
    // Only the usage chunk is parsed; token chunks are passed by after a substring check.
    if (!data.includes('"usage"')) return;
    const usage = usageOfJson(data);
    if (usage) this.seen = usage;
  }
}
