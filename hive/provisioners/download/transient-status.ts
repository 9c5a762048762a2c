// Which refusing HTTP answers are worth asking again: the downloader retries them, and the hub
// calls of the model vendor tell a person to try later instead of blaming the name or the token.

/** Whether asking again later may work: rate limited, or the server (or a proxy) is in trouble. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The longest wait a server's Retry-After is followed for; past it the download's own backoff stands. */
const RETRY_AFTER_MAX_MS = 5 * 60_000;

/**
 * The wait a refusal's `Retry-After` asks for (delay-seconds, or an HTTP date), in ms, at most
 * RETRY_AFTER_MAX_MS; undefined when there is none or it cannot be read.
 */
export function retryAfterMs(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  const waitMs = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - nowMs;
  if (!Number.isFinite(waitMs)) return undefined;
  return Math.min(Math.max(0, waitMs), RETRY_AFTER_MAX_MS);
}
