// What one measured generation yields, whichever way it ran; every runner returns it and the
// report summarises it.

export interface RunResult {
  /** Completion tokens, counted the way the worker counts `usage.completion_tokens`. */
  tokens: number;
  /** Wall time from the start of the call or request to its last byte, in seconds. */
  seconds: number;
  /** Streaming only: seconds from the request's start to the first piece of generated text. */
  firstTokenSeconds?: number;
}

export function tokensPerSecond(result: RunResult): number {
  return result.tokens / result.seconds;
}
