// Looks up one GitHub release by tag through the REST API (`GET /repos/{owner}/{repo}/releases/tags/{tag}`)
// and reads the part of its answer the worker vendor needs: each asset's name, size, download URL
// and, for assets uploaded since June 2025, the `sha256:…` digest GitHub computed.
import { z } from "zod";
import { describeError, RbeeError } from "../../../shared/errors.js";

export const GitHubReleaseAsset = z.object({
  name: z.string(),
  size: z.number().int().min(0),
  browser_download_url: z.string().url(),
  /** `sha256:<hex>`; null or absent for older assets. */
  digest: z.string().nullish(),
});
export type GitHubReleaseAsset = z.infer<typeof GitHubReleaseAsset>;

export const GitHubRelease = z.object({ tag_name: z.string(), assets: z.array(GitHubReleaseAsset) });
export type GitHubRelease = z.infer<typeof GitHubRelease>;

export interface ReleaseLookup {
  /** e.g. `https://api.github.com`, without a trailing slash. */
  apiUrl: string;
  /** Sent as `Authorization: Bearer …` when set: private repositories, higher rate limits. */
  token: string | undefined;
  owner: string;
  repo: string;
  tag: string;
  signal: AbortSignal;
}

export async function fetchGitHubRelease(lookup: ReleaseLookup): Promise<GitHubRelease> {
  const { owner, repo, tag } = lookup;
  const named = `${owner}/${repo}@${tag}`;
  const url = `${lookup.apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/releases/tags/${encodeURIComponent(tag)}`;
  const headers: Record<string, string> = {
    accept: "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    // GitHub refuses API requests that carry no User-Agent.
    "user-agent": "rbee-hive",
  };
  if (lookup.token) headers.authorization = `Bearer ${lookup.token}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: lookup.signal });
  } catch (error) {
    lookup.signal.throwIfAborted();
    throw new RbeeError(502, "github_unreachable", `could not reach ${url}: ${describeError(error)}; check the network or RBEE_GITHUB_API_URL`, { cause: error });
  }
  if (response.status === 404) {
    await response.body?.cancel();
    throw new RbeeError(
      404,
      "worker_release_not_found",
      `GitHub has no release ${named}${lookup.token ? "" : " (or it is private: set GITHUB_TOKEN)"}; check the owner, repository and tag`,
    );
  }
  if (!response.ok) {
    const detail = await gitHubMessage(response);
    const hint = response.status === 401 || response.status === 403 || response.status === 429 ? "; check GITHUB_TOKEN, or wait for the rate limit to reset" : "";
    throw new RbeeError(502, "github_error", `GitHub answered ${response.status} for release ${named}: ${detail}${hint}`);
  }
  const parsed = GitHubRelease.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    throw new RbeeError(502, "github_error", `GitHub's answer for release ${named} is not a release (${parsed.error.issues[0]?.message ?? "unreadable"}); check RBEE_GITHUB_API_URL`);
  }
  return parsed.data;
}

/** GitHub's `{message}` from an error answer, else the status text. */
async function gitHubMessage(response: Response): Promise<string> {
  const body: unknown = await response.json().catch(() => undefined);
  const message = z.object({ message: z.string() }).safeParse(body);
  return message.success ? message.data.message.slice(0, 300) : response.statusText;
}
