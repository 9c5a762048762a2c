// Artifact ids come from users (through the queen) and are never trusted as paths. This file is
// the only place that turns an id into a folder name, and the only place that joins a name under
// a catalog root; both refuse anything that could leave the root.
import { createHash } from "node:crypto";
import path from "node:path";
import { RbeeError } from "../../shared/errors.js";

/** A single path segment that is safe on every OS: no separators, no dots-only, no controls. */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;
/**
 * Ids kept as their own folder name: lowercase (so `ABC` and `abc` stay apart on case-insensitive
 * disks such as macOS's and Windows'), ending in a letter or digit (Windows drops a trailing dot),
 * and not ending like a hash suffix (so a literal id can never take a hashed id's folder).
 */
const LITERAL_FOLDER = /^[a-z0-9](?:[a-z0-9._+-]{0,198}[a-z0-9])?$/;
const HASH_SUFFIX = /-[0-9a-f]{12}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Refuses ids that carry control characters, backslashes or `..` segments; returns the id. */
export function checkArtifactId(id: string, kind: string): string {
  if (id.length === 0 || id.length > 1024) throw invalid(kind, id, "must be 1–1024 characters");
  if (CONTROL_CHARACTERS.test(id)) throw invalid(kind, id, "contains control characters");
  if (id.includes("\\")) throw invalid(kind, id, "contains a backslash");
  if (id.split(/[/:]/).some((segment) => segment === "..")) throw invalid(kind, id, "contains a '..' segment");
  return id;
}

/** Whether `name` may become a file or folder name as it is (checkSafeSegment's rule). */
export function isSafeSegment(name: string): boolean {
  return SAFE_SEGMENT.test(name) && !name.includes("..");
}

/**
 * Checks one name that will become a file or folder name (a GGUF file name, a worker id):
 * letters, digits, `.`, `_`, `+`, `-`, not starting with a dot, at most 200 characters.
 */
export function checkSafeSegment(name: string, what: string): string {
  if (!isSafeSegment(name)) {
    throw new RbeeError(
      400,
      "invalid_artifact_id",
      `${what} '${printable(name)}' is not a safe file name: use letters, digits, '.', '_', '+' and '-', no separators, no '..', not starting with '.'`,
    );
  }
  return name;
}

/**
 * The folder an id's entry lives in: the id itself when it is already a safe lowercase name (worker
 * ids such as `cpu-llm-worker-rbee-v0.1.0-linux`), else a readable slug plus a hash of the id, so
 * `hf:org/repo:file.gguf` and `hf:org/repo/file.gguf` can never share a folder.
 */
export function folderNameFor(id: string): string {
  if (LITERAL_FOLDER.test(id) && !id.includes("..") && !HASH_SUFFIX.test(id)) return id;
  const slug = id.replace(/[^A-Za-z0-9._+-]+/g, "_").replace(/^[^A-Za-z0-9]+/, "").replace(/\.{2,}/g, ".").slice(0, 120);
  // UTF-16 code units, not UTF-8: UTF-8 turns every lone surrogate into U+FFFD, so ids that differ
  // only there would hash alike.
  const hash = createHash("sha256").update(Buffer.from(id, "utf16le")).digest("hex").slice(0, 12);
  return `${slug || "artifact"}-${hash}`;
}

/** `root/name`, after proving `name` is one safe segment that stays inside `root`. */
export function resolveInside(root: string, name: string): string {
  checkSafeSegment(name, "catalog entry");
  const resolvedRoot = path.resolve(root);
  const resolved = path.resolve(resolvedRoot, name);
  if (path.dirname(resolved) !== resolvedRoot) {
    throw new RbeeError(400, "invalid_artifact_id", `'${printable(name)}' would leave the catalog folder ${resolvedRoot}`);
  }
  return resolved;
}

function invalid(kind: string, id: string, why: string): RbeeError {
  return new RbeeError(400, "invalid_artifact_id", `${kind} id '${printable(id)}' ${why}`);
}

/** A name from outside (an id, a release asset) as a person can read it in a message: controls escaped, long names cut. */
export function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = value.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return escaped.length > 200 ? `${escaped.slice(0, 200)}…` : escaped;
}
