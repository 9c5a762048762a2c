// The few Hugging Face Hub calls the model vendor needs, shaped as the hub answers them: the repo's
// file list (`GET /api/models/{repo}/tree/{revision}?recursive=true`, paged by `Link: rel="next"`)
// and a file's facts from a HEAD on `/{repo}/resolve/{revision}/{path}`, which for LFS files
// answers 302 to the CDN with `X-Linked-Etag` (the quoted SHA-256), `X-Linked-Size` and
// `X-Repo-Commit`. Like huggingface_hub, the HEAD follows relative redirects (a renamed repo) but
// not the one to the CDN, whose headers describe the CDN's answer, not the file.
import { z } from "zod";
import { RbeeError } from "../../../shared/errors.js";
import type { AnswerHead } from "../download/guarded-get.js";
import { isTransientStatus } from "../download/transient-status.js";
import type { HuggingFaceConfig } from "./hugging-face-config.js";
import { refusalError } from "./http-refusal.js";
import { HUB_CALL_DEFAULTS, type HubCallTiming, hubCall } from "./hub-call.js";

const TreeEntry = z.object({
  type: z.string(),
  path: z.string(),
  size: z.number().optional(),
  lfs: z.object({ oid: z.string(), size: z.number() }).optional(),
});
const TreePage = z.array(TreeEntry);
export type HubTreeEntry = z.infer<typeof TreeEntry>;

export interface HubFileInfo {
  /** Lowercase hex, from `X-Linked-Etag`; null for files not stored in LFS (their ETag is a git SHA-1). */
  sha256: string | null;
  sizeBytes: number | null;
  /** The commit the revision pointed at; downloads pin it so a moving branch cannot mix two versions. */
  commit: string | null;
  /** The resolve URL to GET (at the commit when known); fetch follows its redirect to the CDN. */
  downloadUrl: string;
}

/** Pages of a tree listing to follow before concluding the hub is looping. */
const MAX_TREE_PAGES = 100;
const MAX_RELATIVE_REDIRECTS = 5;
const SHA256 = /^[0-9a-f]{64}$/;
const COMMIT = /^[0-9a-f]{40}$/;

export class HuggingFaceHub {
  constructor(
    readonly config: HuggingFaceConfig,
    private readonly timing: HubCallTiming = HUB_CALL_DEFAULTS,
  ) {}

  /** `{endpoint}/{repo}/resolve/{revision}/{path}`, each part encoded as huggingface_hub does. */
  resolveUrl(repo: string, revision: string, filePath: string): string {
    return `${this.config.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(filePath)}`;
  }

  /** Headers for requests to the hub itself. */
  headers(): Record<string, string> {
    return this.config.token === null ? {} : { authorization: `Bearer ${this.config.token}` };
  }

  /** Every file path in the repo at `revision`, subfolders included. */
  async listFiles(repo: string, revision: string, signal: AbortSignal): Promise<HubTreeEntry[]> {
    const entries: HubTreeEntry[] = [];
    let url: string | null = `${this.config.endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true&expand=false`;
    for (let page = 0; url !== null && page < MAX_TREE_PAGES; page++) {
      const response = await hubCall(url, { headers: { ...this.headers(), accept: "application/json" } }, signal, `the file list of ${repo}`, this.timing);
      if (!response.ok) throw this.refusal(response, repo, null, revision);
      const parsed = TreePage.safeParse(await response.json().catch(() => undefined));
      if (!parsed.success) {
        throw new RbeeError(502, "hub_error", `${this.config.endpoint} answered the file list of ${repo} with something that is not a list of files; is HF_ENDPOINT a Hugging Face hub?`);
      }
      entries.push(...parsed.data);
      url = this.nextPage(response.headers.get("link"));
    }
    return entries;
  }

  /** The file's SHA-256, size and commit, without downloading it. */
  async fileInfo(repo: string, revision: string, filePath: string, signal: AbortSignal): Promise<HubFileInfo> {
    let url = this.resolveUrl(repo, revision, filePath);
    let response = await this.head(url, signal);
    for (let hop = 0; hop < MAX_RELATIVE_REDIRECTS && isRedirect(response.status); hop++) {
      const location = response.headers.get("location") ?? "";
      if (/^[a-z][a-z0-9+.-]*:/i.test(location) || location.startsWith("//")) break; // absolute: the CDN
      url = new URL(location, url).href;
      response = await this.head(url, signal);
    }
    if (!response.ok && !isRedirect(response.status)) throw this.refusal(response, repo, filePath, revision);
    const sha256 = unquoteEtag(response.headers.get("x-linked-etag"));
    const linkedSize = response.headers.get("x-linked-size");
    // A 302's Content-Length is the redirect's own body; only a direct 200 gives the file's.
    const size = linkedSize ?? (response.ok ? response.headers.get("content-length") : null);
    const commit = response.headers.get("x-repo-commit");
    const pinned = commit !== null && COMMIT.test(commit) ? commit : null;
    return {
      sha256: sha256 !== null && SHA256.test(sha256) ? sha256 : null,
      sizeBytes: size !== null && /^\d+$/.test(size) ? Number(size) : null,
      commit: pinned,
      downloadUrl: this.resolveUrl(repo, pinned ?? revision, filePath),
    };
  }

  /** The error for a refusing hub answer, naming the repo or file and what to do. */
  refusal(response: AnswerHead, repo: string, filePath: string | null, revision: string): RbeeError {
    const what = filePath === null ? `hf:${repo}` : `hf:${repo}/${filePath}`;
    // The download's answer from the CDN the hub redirected to: the hub had found the repo and the
    // file, so neither their names nor the token are what to check.
    if (response.url !== "" && new URL(response.url).origin !== new URL(this.config.endpoint).origin) return cdnRefusal(response, what);
    const errorCode = response.headers.get("x-error-code");
    if (response.status === 404 && errorCode === "RevisionNotFound") {
      return new RbeeError(404, "model_not_found", `${what}: the repo has no branch, tag or commit '${revision}'`);
    }
    if (response.status === 404 && errorCode === "EntryNotFound") {
      return new RbeeError(404, "model_not_found", `${what}: the repo has no file '${filePath ?? ""}' at revision ${revision}; check the file name`);
    }
    if (response.status === 404) return new RbeeError(404, "model_not_found", `${what}: ${this.config.endpoint} has no model repo '${repo}'; check the org and repo name`);
    if (isTransientStatus(response.status)) return refusalError(response, what, "");
    return refusalError(response, what, this.accessHint(repo, response.status, errorCode));
  }

  private accessHint(repo: string, status: number, errorCode: string | null): string {
    const page = `${this.config.endpoint}/${repo}`;
    if (this.config.token === null) {
      return `the repo is private or gated (or does not exist); set HF_TOKEN to a Hugging Face access token that can read it (${this.config.endpoint}/settings/tokens), and for a gated repo accept its conditions at ${page}`;
    }
    const gated = errorCode === "GatedRepo" || status === 403;
    return gated
      ? `the token from ${this.config.tokenSource ?? "HF_TOKEN"} may not read this gated repo yet; accept its conditions at ${page} with the token's account, or set HF_TOKEN to a token that can read it`
      : `the token from ${this.config.tokenSource ?? "HF_TOKEN"} was refused; set HF_TOKEN to a valid token that can read ${page}`;
  }

  private head(url: string, signal: AbortSignal): Promise<Response> {
    // identity: a compressed answer would report the compressed size.
    const init: RequestInit = { method: "HEAD", redirect: "manual", headers: { ...this.headers(), "accept-encoding": "identity" } };
    return hubCall(url, init, signal, `the facts of ${new URL(url).pathname}`, this.timing);
  }

  /** The `rel="next"` page, only when it stays on the hub: the token must not travel elsewhere. */
  private nextPage(link: string | null): string | null {
    const match = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
    if (!match?.[1]) return null;
    const next = new URL(match[1], this.config.endpoint);
    return next.origin === new URL(this.config.endpoint).origin ? next.href : null;
  }
}

/** A refusal from the hub's download server, after the hub itself had resolved the file. */
function cdnRefusal(response: AnswerHead, what: string): RbeeError {
  const host = new URL(response.url).host;
  if (response.status === 404 || response.status === 410) {
    return new RbeeError(404, "model_not_found", `${what}: the hub lists the file, but its download server ${host} answered ${response.status}: the hub's copy is missing there; try again later`);
  }
  if (response.status === 401 || response.status === 403) {
    return new RbeeError(502, "model_download_failed", `${what}: the hub's download server ${host} refused the download link (${response.status}); such links expire, so ask for the model again`);
  }
  return refusalError(response, what, "");
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

function encodePath(filePath: string): string {
  return filePath.split("/").map(encodeURIComponent).join("/");
}

/** `W/"abc"` or `"abc"` → `abc`. */
function unquoteEtag(etag: string | null): string | null {
  return etag === null ? null : etag.replace(/^W\//, "").replace(/^"|"$/g, "").toLowerCase();
}
