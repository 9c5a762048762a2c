// Where a worker comes from, parsed from what a user typed: `local` (this repository's worker,
// built here) or `gh:owner/repo@tag` (a GitHub release). Owner, repo and tag end up in URLs and the
// tag in a catalog id, so each is checked here, once, against what GitHub itself allows.
import { RbeeError } from "../../../shared/errors.js";

export type WorkerSource =
  | { kind: "local" }
  | {
      kind: "github";
      owner: string;
      repo: string;
      tag: string;
      /** The tag without its `v`, e.g. `0.1.0`: the version in the worker's id. */
      version: string;
    };

/** The forms a worker source may take, for messages. */
export const WORKER_SOURCE_FORMS = "'local' (build this repository's worker) or 'gh:owner/repo@tag' (a GitHub release, e.g. gh:rbee-dev/rbee@v0.1.0)";

export const LOCAL_SOURCE = "local";
export const GITHUB_PREFIX = "gh:";

/** GitHub user and organisation names: letters, digits and single inner hyphens, at most 39. */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** GitHub repository names: letters, digits, `.`, `_`, `-`, at most 100 (`.github` is one); never `.` or `..`. */
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
/** A release tag that names a version: `v0.1.0`, `0.2.0-rc.1`. No `/`, so never a path. */
const VERSION_TAG = /^v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$/;

export function parseWorkerSource(source: string): WorkerSource {
  if (source === LOCAL_SOURCE) return { kind: "local" };
  if (!source.startsWith(GITHUB_PREFIX)) throw invalid(source, `use ${WORKER_SOURCE_FORMS}`);
  const match = /^([^/@]*)\/([^/@]*)@(.*)$/.exec(source.slice(GITHUB_PREFIX.length));
  if (!match) throw invalid(source, "expected exactly gh:owner/repo@tag, e.g. gh:rbee-dev/rbee@v0.1.0");
  const [, owner = "", repo = "", tag = ""] = match;
  if (!OWNER.test(owner)) throw invalid(source, `owner ${JSON.stringify(owner)} is not a GitHub user or organisation name (letters, digits, single hyphens)`);
  if (!REPO.test(repo) || repo === "." || repo.includes("..")) throw invalid(source, `repo ${JSON.stringify(repo)} is not a GitHub repository name (letters, digits, '.', '_', '-', no '..')`);
  const version = VERSION_TAG.exec(tag)?.[1];
  if (version === undefined || tag.includes("..")) {
    throw invalid(source, `tag ${JSON.stringify(tag)} is not a version tag; worker releases are tagged like v0.1.0 or v0.2.0-rc.1`);
  }
  return { kind: "github", owner, repo, tag, version };
}

/** The source as the catalog keeps it: `local` or `gh:owner/repo@tag`. */
export function formatWorkerSource(source: WorkerSource): string {
  return source.kind === "local" ? LOCAL_SOURCE : `${GITHUB_PREFIX}${source.owner}/${source.repo}@${source.tag}`;
}

// Quoted with JSON.stringify: it escapes control characters, so a hostile source cannot forge log lines.
function invalid(source: string, why: string): RbeeError {
  return new RbeeError(400, "invalid_worker_source", `worker source ${JSON.stringify(source.slice(0, 200))} is not valid: ${why}`);
}
