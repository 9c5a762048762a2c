// Turns an HTTP answer that refused a model download into the error a person can act on: 404 is
// `model_not_found`, 401/403 `model_access_denied` with what to do about it; rate limits and server
// trouble are transient, for the download to try again.
import { RbeeError } from "../../../shared/errors.js";

/** Whether asking again later may work: rate limited, or the server (or a proxy) is in trouble. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The error for a refusing answer. `what` names the thing asked for (`hf:org/repo/x.gguf`);
 * `accessHint` says how to get access (set HF_TOKEN, …), for 401 and 403.
 */
export function refusalError(response: Response, what: string, accessHint: string): RbeeError {
  const answered = `${what}: ${new URL(response.url || "http://unknown").host || "the server"} answered ${response.status} ${response.statusText}`.trim();
  if (response.status === 404 || response.status === 410) {
    return new RbeeError(404, "model_not_found", `${answered}; check the name (and revision), the file does not exist there`);
  }
  if (response.status === 401 || response.status === 403) {
    return new RbeeError(403, "model_access_denied", `${answered}; ${accessHint}`);
  }
  if (isTransientStatus(response.status)) {
    return new RbeeError(503, "model_source_unavailable", `${answered}; try again later`, { retryAfterSeconds: 30 });
  }
  return new RbeeError(502, "model_download_failed", `${answered}, which rbee did not expect for a file download`);
}
