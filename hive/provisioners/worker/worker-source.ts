// Where a worker comes from, parsed from what a user typed: `local` (this repository's worker,
// built here), or a GitHub release in any of the catalog's spellings:
//   gh:owner/repo@v0.2.0 (or GH:…)                          a release by tag
//   https://github.com/owner/repo/releases/tag/v0.2.0       the release's page
//   https://github.com/owner/repo/releases/download/v0.2.0/cuda-llm-worker-rbee-v0.2.0-linux.tar.gz
//   cuda-llm-worker-rbee-v0.2.0-linux, or v0.2.0            a worker id or tag in the hive's default
//                                                           release repository (--worker-release-repo)
// Every spelling becomes `gh:owner/repo@tag`, so the catalog keeps one form. Owner, repo and tag end
// up in URLs and the tag in a catalog id, so each is checked here, once, against what GitHub allows.
import { RbeeError } from "../../../shared/errors.js";
import type { WorkerType } from "../../catalog/worker/worker-artifact.js";
import { parseReleaseAssetName } from "./release-asset-names.js";
import { parseWorkerId, type WorkerIdParts } from "./parse-worker-id.js";

export type WorkerSource =
  | { kind: "local" }
  | {
      kind: "github";
      owner: string;
      repo: string;
      tag: string;
      /** The tag without its `v`, e.g. `0.1.0`: the version in the worker's id. */
      version: string;
      /** When the source names one (a worker id, an asset URL): the worker type and platform it is for. */
      workerType?: WorkerType;
      platform?: string;
    };

/** The forms a worker source may take, for messages. */
export const WORKER_SOURCE_FORMS =
  "'local' (build this repository's worker), 'gh:owner/repo@tag' (a GitHub release, e.g. gh:rbee-dev/rbee@v0.1.0), a https://github.com/owner/repo/releases/tag/… or …/releases/download/… URL, or a worker id or tag (cpu-llm-worker-rbee-v0.1.0-linux, v0.1.0) in the hive's default release repository";

export const LOCAL_SOURCE = "local";
export const GITHUB_PREFIX = "gh:";

export interface WorkerSourceDefaults {
  /** `owner/repo` that bare worker ids and tags are looked up in (--worker-release-repo); none: they are refused. */
  releaseRepo?: string | undefined;
}

/** GitHub user and organisation names: letters, digits and single inner hyphens, at most 39. */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** GitHub repository names: letters, digits, `.`, `_`, `-`, at most 100 (`.github` is one); never `.` or `..`. */
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
/** A release tag that names a version: `v0.1.0`, `0.2.0-rc.1`. No `/`, so never a path. */
const VERSION_TAG = /^v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$/;
const GITHUB_HOSTS = new Set(["github.com", "www.github.com"]);
const RELEASE_REPO_FLAG = "--worker-release-repo (env RBEE_WORKER_RELEASE_REPO, key workerReleaseRepo)";

export function parseWorkerSource(source: string, defaults: WorkerSourceDefaults = {}): WorkerSource {
  if (source === LOCAL_SOURCE) return { kind: "local" };
  if (source.slice(0, GITHUB_PREFIX.length).toLowerCase() === GITHUB_PREFIX) return parseGitHubId(source);
  if (/^https?:\/\//i.test(source)) return parseReleaseUrl(source);
  if (/^[A-Za-z0-9][A-Za-z0-9.+-]*$/.test(source) && (VERSION_TAG.test(source) || source.includes("-llm-worker-rbee-"))) return parseBareId(source, defaults);
  throw invalid(source, `use ${WORKER_SOURCE_FORMS}`);
}

/** The source as the catalog keeps it: `local` or `gh:owner/repo@tag`. */
export function formatWorkerSource(source: WorkerSource): string {
  return source.kind === "local" ? LOCAL_SOURCE : `${GITHUB_PREFIX}${source.owner}/${source.repo}@${source.tag}`;
}

/** What is wrong with an `owner/repo` from config (the default release repository); undefined when nothing. */
export function releaseRepoProblem(value: string): string | undefined {
  const [owner = "", repo = "", ...rest] = value.split("/");
  return repoProblem(owner, repo) ?? (rest.length > 0 ? "expected exactly owner/repo" : undefined);
}

function parseGitHubId(source: string): WorkerSource {
  const match = /^([^/@]*)\/([^/@]*)@(.*)$/.exec(source.slice(GITHUB_PREFIX.length));
  if (!match) throw invalid(source, "expected exactly gh:owner/repo@tag, e.g. gh:rbee-dev/rbee@v0.1.0");
  const [, owner = "", repo = "", tag = ""] = match;
  return release(source, owner, repo, tag);
}

/** `https://github.com/owner/repo/releases/tag/<tag>` or `…/releases/download/<tag>/<asset>`. */
function parseReleaseUrl(source: string): WorkerSource {
  const url = URL.canParse(source) ? new URL(source) : undefined;
  if (!url || url.protocol !== "https:" || !GITHUB_HOSTS.has(url.hostname) || url.port !== "" || url.username !== "" || url.password !== "" || url.search !== "") {
    throw invalid(source, "a URL source must be a release on https://github.com (…/owner/repo/releases/tag/<tag> or …/releases/download/<tag>/<asset>); for other hosts set --github-api-url and use gh:owner/repo@tag");
  }
  const raw = url.pathname.split("/").slice(1);
  let parts: string[];
  try {
    parts = raw.map(decodeURIComponent);
  } catch {
    throw invalid(source, "has a path that is not valid percent-encoding");
  }
  const [owner = "", repo = "", releases, kind, tag = "", asset, ...rest] = parts;
  if (releases !== "releases" || rest.length > 0 || !((kind === "tag" && asset === undefined) || (kind === "download" && asset !== undefined))) {
    throw invalid(source, "expected https://github.com/owner/repo/releases/tag/<tag> or …/releases/download/<tag>/<asset>; a worker needs a tagged release (not 'latest')");
  }
  const parsed = release(source, owner, repo, tag);
  if (asset === undefined || parsed.kind !== "github") return parsed;
  const named = parseReleaseAssetName(asset);
  if (!named) throw invalid(source, `asset ${JSON.stringify(asset)} is not named like a worker (<type>-llm-worker-rbee[-v<version>]-<platform>[.tar.gz|.mjs|.js])`);
  if (named.version !== null && named.version !== parsed.version) throw invalid(source, `asset ${JSON.stringify(asset)} is version ${named.version}, but the release tag ${JSON.stringify(tag)} is ${parsed.version}`);
  return { ...parsed, workerType: named.workerType, platform: named.platform };
}

/** A worker id (`cuda-llm-worker-rbee-v0.2.0-linux`) or a version tag, in the default release repository. */
function parseBareId(source: string, defaults: WorkerSourceDefaults): WorkerSource {
  const id = VERSION_TAG.test(source) ? undefined : parseBareWorkerId(source);
  const tag = id ? `v${id.version}` : source;
  if (defaults.releaseRepo === undefined) {
    throw new RbeeError(
      400,
      "worker_release_repo_unset",
      `worker source ${JSON.stringify(source)} names no repository, and this hive has no default release repository; set ${RELEASE_REPO_FLAG} on the hive, or name one: gh:owner/repo@${tag}`,
    );
  }
  const [owner = "", repo = ""] = defaults.releaseRepo.split("/");
  // release() checks owner and repo: a bad default is named in the error like a bad source.
  const parsed = release(source, owner, repo, tag);
  return id && parsed.kind === "github" ? { ...parsed, workerType: id.workerType, platform: id.platform } : parsed;
}

function parseBareWorkerId(source: string): WorkerIdParts {
  try {
    return parseWorkerId(source);
  } catch {
    throw invalid(source, `a worker id is <type>-llm-worker-rbee-v<version>-<platform>, e.g. cpu-llm-worker-rbee-v0.1.0-linux; or use ${WORKER_SOURCE_FORMS}`);
  }
}

function release(source: string, owner: string, repo: string, tag: string): WorkerSource {
  const problem = repoProblem(owner, repo);
  if (problem) throw invalid(source, problem);
  const version = VERSION_TAG.exec(tag)?.[1];
  if (version === undefined || tag.includes("..")) {
    throw invalid(source, `tag ${JSON.stringify(tag)} is not a version tag; worker releases are tagged like v0.1.0 or v0.2.0-rc.1`);
  }
  return { kind: "github", owner, repo, tag, version };
}

function repoProblem(owner: string, repo: string): string | undefined {
  if (!OWNER.test(owner)) return `owner ${JSON.stringify(owner)} is not a GitHub user or organisation name (letters, digits, single hyphens)`;
  if (!REPO.test(repo) || repo === "." || repo.includes("..")) return `repo ${JSON.stringify(repo)} is not a GitHub repository name (letters, digits, '.', '_', '-', no '..')`;
  return undefined;
}

// Quoted with JSON.stringify: it escapes control characters, so a hostile source cannot forge log lines.
function invalid(source: string, why: string): RbeeError {
  return new RbeeError(400, "invalid_worker_source", `worker source ${JSON.stringify(source.slice(0, 200))} is not valid: ${why}`);
}
