// Warms the relay's paths up before a benchmark measures them. The queen, the hive and the worker
// run their per-request JavaScript in V8's interpreter and baseline tier until it has run often
// enough to be optimised: over the first few thousand requests through the queen, the CPU each
// request cost workerd and the hive fell by a third to a half (bench/README.md, relay). Measured
// cold, a benchmark times processes just started rather than ones that have been serving.
import type { ChatBody, ChatTarget, TimedChatClient } from "./timed-chat.js";

/** Warm-up rounds unless a benchmark's --warmup says otherwise: ~20 s on the 2-core machine. */
export const DEFAULT_WARMUP_ROUNDS = 1000;
/** One warm-up stream per path for this many rounds, and at least one. */
const ROUNDS_PER_STREAM = 100;

export interface WarmUpPath {
  target: ChatTarget;
  /** The request of warm-up round `round`, asking `maxTokens`. */
  body: (round: number, maxTokens: number) => ChatBody;
}

/**
 * `rounds` rounds of a one-token request on each path in turn, then a stream of `streamTokens`
 * per path for every ROUNDS_PER_STREAM rounds (at least one: a stream's per-chunk code warms fast,
 * and its first request pays for the connection).
 */
export async function warmUp(client: TimedChatClient, paths: readonly WarmUpPath[], rounds: number, streamTokens: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const path of paths) await client.complete(path.target, path.body(round, 1));
  }
  const streams = Math.max(1, Math.ceil(rounds / ROUNDS_PER_STREAM));
  for (let round = 0; round < streams; round++) {
    for (const path of paths) await client.stream(path.target, path.body(round, streamTokens));
  }
}
