// The errors a model download ends with, in terms a person can act on: for an HTTP answer that
// refused it, 404 is `model_not_found`, 401/403 `model_access_denied` with what to do about it;
// rate limits and server trouble are transient, for the download to try again; and
// `model_download_failed` once every retry failed.
import { RbeeError } from "../../../shared/errors.js";
import type { AnswerHead } from "../download/guarded-get.js";
import type { DownloadGaveUp } from "../download/resumable-download.js";
import { isTransientStatus } from "../download/transient-status.js";

/** A model download that failed every retry keeps its part, so asking again resumes it. */
export const MODEL_DOWNLOAD_GAVE_UP: DownloadGaveUp = { code: "model_download_failed", resumeBy: "asking for the model again" };

/**
 * The error for a refusing answer. `what` names the thing asked for (`hf:org/repo/x.gguf`);
 * `accessHint` says how to get access (set HF_TOKEN, …), for 401 and 403.
 */
export function refusalError(response: AnswerHead, what: string, accessHint: string): RbeeError {
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
