// Passes a JSON response body through unchanged while watching it for OpenAI's `usage`, found
// once the body is whole. Nothing is held back from the client. (A stream's usage is counted by
// the stage that relays it, stream-meter.ts.)
import { RbeeError } from "../../shared/errors.js";
import { CLIENT_GONE } from "../streams/spliced-stream.js";
import { tapStream } from "../streams/tap-stream.js";
import { JsonUsageWatcher } from "./json-usage-watcher.js";
import type { TokenUsage } from "./token-usage.js";

export interface ObservedBody {
  body: ReadableStream<Uint8Array>;
  /** Settles once the body ended, failed or was cancelled by the client, with what was seen. */
  usage: Promise<TokenUsage>;
  /** When the body's first chunk passed (ms since the epoch), for time-to-first-token; undefined before. */
  firstChunkAtMs: () => number | undefined;
  /** Why the body stopped short of its end (CLIENT_GONE, its error's code); undefined if it did not. */
  cut: () => string | undefined;
}

export function observeJsonUsage(source: ReadableStream<Uint8Array>): ObservedBody {
  const watcher = new JsonUsageWatcher();
  let settle: (usage: TokenUsage) => void = () => {};
  const usage = new Promise<TokenUsage>((resolve) => {
    settle = resolve;
  });
  // However the body ends, the usage promise settles: ctx.waitUntil waits on it.
  let cut: string | undefined;
  const finish = (cutWith?: string) => {
    cut ??= cutWith;
    settle(watcher.finish());
  };
  let firstChunkAtMs: number | undefined;
  const onChunk = (chunk: Uint8Array) => {
    firstChunkAtMs ??= Date.now();
    watcher.push(chunk);
  };
  const body = tapStream(source, {
    onChunk,
    onEnd: (error) => finish(error === undefined ? undefined : errorCode(error)),
    onCancel: () => finish(CLIENT_GONE),
  });
  return { body, usage, firstChunkAtMs: () => firstChunkAtMs, cut: () => cut };
}

/** The code a failed body's error carries (a relay's RbeeError: worker_stalled, request_timeout, …). */
function errorCode(error: unknown): string {
  return error instanceof RbeeError ? error.code : "response_incomplete";
}
