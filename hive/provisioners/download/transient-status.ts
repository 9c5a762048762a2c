// Which refusing HTTP answers are worth asking again: the downloader retries them, and the hub
// calls of the model vendor tell a person to try later instead of blaming the name or the token.

/** Whether asking again later may work: rate limited, or the server (or a proxy) is in trouble. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
