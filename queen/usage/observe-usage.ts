// Passes a response body through unchanged while watching it for OpenAI's `usage`: the whole
// body of a JSON response, or the events of a server-sent-event stream (the usage chunk that
// `stream_options.include_usage` asks for). Nothing is held back from the client.
import { tapStream } from "../streams/tap-stream.js";
import { JsonUsageWatcher } from "./json-usage-watcher.js";
import { SseUsageWatcher } from "./sse-usage-watcher.js";
import type { TokenUsage } from "./token-usage.js";

export type BodyKind = "json" | "sse";

/** The first byte of an event-stream comment line. */
const COLON = 0x3a;

/** What watches the bytes of one body for its usage. */
export interface UsageWatcher {
  push(chunk: Uint8Array): void;
  /** The usage seen, once the body is over; called once. */
  finish(): TokenUsage;
}

export interface ObservedBody {
  body: ReadableStream<Uint8Array>;
  /** Settles once the body ended, failed or was cancelled by the client, with what was seen. */
  usage: Promise<TokenUsage>;
  /** When the body's first chunk passed (ms since the epoch), for time-to-first-token; undefined before. */
  firstChunkAtMs: () => number | undefined;
}

/** `promptTokens`: what the stream's head said its prompt was, for a stream cut before its usage chunk. */
export function observeUsage(source: ReadableStream<Uint8Array>, kind: BodyKind, promptTokens?: number): ObservedBody {
  const watcher: UsageWatcher = kind === "json" ? new JsonUsageWatcher() : new SseUsageWatcher(promptTokens);
  let settle: (usage: TokenUsage) => void = () => {};
  const usage = new Promise<TokenUsage>((resolve) => {
    settle = resolve;
  });
  // However the body ends, the usage promise settles: ctx.waitUntil waits on it.
  const finish = () => settle(watcher.finish());
  let firstChunkAtMs: number | undefined;
  const onChunk = (chunk: Uint8Array) => {
    // A comment alone (a waiting stream's, streams/early-stream-head.ts) is no token.
    if (chunk[0] !== COLON) firstChunkAtMs ??= Date.now();
    watcher.push(chunk);
  };
  const body = tapStream(source, { onChunk, onEnd: finish, onCancel: finish });
  return { body, usage, firstChunkAtMs: () => firstChunkAtMs };
}
