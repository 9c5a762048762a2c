// Finds the usage chunk in a server-sent-event stream (observe-usage.ts), read by the queen's
// one SSE reader (streams/sse-data-reader.ts). An event too long to buffer is skipped, so a
// usage chunk after it is still counted.
//
// A stream its client leaves before the end never gets to its usage chunk, yet its tokens were
// generated and sent: it counts one completion token for each event that carried a piece of
// text or of a call, which is at most the true count (a piece is one token or more), and the
// prompt tokens its head named (meter-usage.ts). Without that, a client could stop every stream
// just short of its end and never be charged.
import { SseDataReader } from "../streams/sse-data-reader.js";
import type { UsageWatcher } from "./observe-usage.js";
import { NO_TOKENS, type TokenUsage, usageOfJson } from "./token-usage.js";

/**
 * What the data of an event that carries generated tokens contains, in each dialect the queen
 * streams: chat's text and call pieces, legacy completions' text, Anthropic's block deltas and
 * the Responses API's text and argument deltas. An empty text (chat's opening chunk, a finish)
 * is not a token.
 */
const TOKEN_EVENT_MARKS = [
  '"delta":{"content":"',
  '"delta":{"tool_calls":',
  '"object":"text_completion"',
  '"type":"content_block_delta"',
  '"type":"response.output_text.delta"',
  '"type":"response.function_call_arguments.delta"',
];
const EMPTY_TEXT_MARKS = ['"delta":{"content":""', '"text":""'];

export class SseUsageWatcher implements UsageWatcher {
  private readonly reader = new SseDataReader({ onData: (data) => this.onData(data) });
  private seen: TokenUsage | undefined;
  /** Events that carried tokens: the completion tokens of a stream cut before its usage. */
  private tokenEvents = 0;

  /** `promptTokens`: the prompt's tokens as the stream's head named them, if it did. */
  constructor(private readonly promptTokens = 0) {}

  push(chunk: Uint8Array): void {
    this.reader.push(chunk);
  }

  finish(): TokenUsage {
    this.reader.end();
    const seen = this.seen ?? NO_TOKENS;
    // A usage seen early (Anthropic's message_start names 0 output tokens) is no count of what followed it.
    return { promptTokens: Math.max(seen.promptTokens, this.promptTokens), completionTokens: Math.max(seen.completionTokens, this.tokenEvents) };
  }

  private onData(data: string): void {
    // Only the usage chunk is parsed; token chunks are passed by after substring checks.
    if (!data.includes('"usage"')) {
      if (TOKEN_EVENT_MARKS.some((mark) => data.includes(mark)) && !EMPTY_TEXT_MARKS.some((mark) => data.includes(mark))) this.tokenEvents += 1;
      return;
    }
    const usage = usageOfJson(data);
    if (usage) this.seen = usage;
  }
}
