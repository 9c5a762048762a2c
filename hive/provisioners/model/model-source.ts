// Parses the model ids users send (`hf:org/repo:file.gguf` or `org/repo:file.gguf`, `https://…/x.gguf`, `file:/…/x.gguf`)
// into what the model vendors fetch. Ids come from users through the queen, so every part that
// becomes a URL path or a file name is checked here, before any vendor touches the network or disk.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RbeeError } from "../../../shared/errors.js";
import { checkArtifactId, checkSafeSegment, isSafeSegment } from "../../catalog/artifact-id.js";
import { isLoopbackHost } from "../../../shared/loopback-host.js";
import { BARE_HUGGING_FACE_ID } from "../../../shared/models/bare-model-id.js";
import { withoutQuery } from "../../../shared/redact-url.js";

/** The id forms the model vendors accept, for the message when none does. */
export const MODEL_ID_FORMS =
  "hf:org/repo or just org/repo (Hugging Face), hf:org/repo:Q4_K_M, hf:org/repo:file.gguf or hf:org/repo/path/file.gguf (each optionally ending #revision or @revision), https://host/path/file.gguf, or file:/absolute/path/file.gguf";

export type ModelSource =
  | {
      kind: "hugging-face";
      /** `org/repo`, both parts checked. */
      repo: string;
      /** The file's path in the repo (`sub/x.gguf`), or null to pick one from the repo's list. */
      filePath: string | null;
      /** A quantization name to pick by (`Q4_K_M`), upper-cased; null when a file or nothing was named. */
      quantization: string | null;
      /** Branch, tag or commit; `main` unless the id names one. */
      revision: string;
    }
  | { kind: "https"; url: URL; fileName: string }
  | { kind: "file"; filePath: string; fileName: string };

const REPO_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
const QUANTIZATION = /^[A-Za-z0-9][A-Za-z0-9_]{0,31}$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;
const DEFAULT_REVISION = "main";

export function parseModelSource(source: string): ModelSource {
  checkArtifactId(source, "model");
  if (source.startsWith("hf:")) return parseHuggingFace(source, source.slice("hf:".length));
  if (BARE_HUGGING_FACE_ID.test(source)) return parseHuggingFace(source, source);
  if (source.startsWith("https:") || source.startsWith("http:")) return parseUrl(source);
  if (source.startsWith("file:")) return parseFile(source);
  throw new RbeeError(400, "unsupported_artifact_id", `model source '${source}' is not one rbee can fetch; use ${MODEL_ID_FORMS}`);
}

/**
 * The one catalog id of the file a source names, so spellings of one file share one entry:
 * `file:///m/x.gguf`, `file://localhost/m/x.gguf` and `file:/m/x.gguf` are all `file:/m/x.gguf`;
 * `hf:org/repo/x.gguf`, `hf:org/repo:x.gguf#main` and `hf:org/repo:x.gguf` are all the last;
 * `hf:org/repo:q4_k_m` is `hf:org/repo:Q4_K_M`; a URL loses its query (a pre-signed link's
 * credential, which must not be kept in the catalog) and takes URL's normal form.
 */
export function canonicalModelId(source: string): string {
  const parsed = parseModelSource(source);
  switch (parsed.kind) {
    case "file":
      return `file:${parsed.filePath}`;
    case "https":
      return withoutQuery(parsed.url.href);
    case "hugging-face": {
      const file = parsed.filePath !== null ? `:${parsed.filePath}` : parsed.quantization !== null ? `:${parsed.quantization}` : "";
      return `hf:${parsed.repo}${file}${parsed.revision === DEFAULT_REVISION ? "" : `@${parsed.revision}`}`;
    }
  }
}

/** `id` is the source without its `hf:`, if it had one; `source` is what the user typed, for messages. */
function parseHuggingFace(source: string, id: string): ModelSource {
  let rest = id;
  let revision = DEFAULT_REVISION;
  const revisionAt = Math.max(rest.lastIndexOf("#"), rest.lastIndexOf("@"));
  if (revisionAt >= 0) {
    revision = rest.slice(revisionAt + 1);
    rest = rest.slice(0, revisionAt);
    if (!REVISION.test(revision) || revision.split("/").some((part) => part === "" || part === "." || part === "..")) {
      throw invalid(source, `has revision '${revision}'; a revision is a branch, tag or commit such as main or v1.0`);
    }
  }
  const colon = rest.indexOf(":");
  const repoAndPath = colon >= 0 ? rest.slice(0, colon) : rest;
  const tail = colon >= 0 ? rest.slice(colon + 1) : null;
  const [org = "", name = "", ...pathParts] = repoAndPath.split("/");
  for (const part of [org, name]) {
    if (!REPO_PART.test(part) || part.includes("..") || part.includes("--")) {
      throw invalid(source, `has repo '${org}/${name}'; expected org/repo, each letters, digits, '.', '_' or '-'`);
    }
  }
  const repo = `${org}/${name}`;
  if (tail !== null && pathParts.length > 0) throw invalid(source, "names a file both after '/' and after ':'; use one of them");
  if (tail === null && pathParts.length === 0) return { kind: "hugging-face", repo, filePath: null, quantization: null, revision };
  const filePart = tail ?? pathParts.join("/");
  if (!filePart.toLowerCase().endsWith(".gguf")) {
    if (tail !== null && QUANTIZATION.test(tail)) {
      return { kind: "hugging-face", repo, filePath: null, quantization: tail.toUpperCase(), revision };
    }
    throw invalid(source, `names '${filePart}', which is neither a .gguf file nor a quantization such as Q4_K_M`);
  }
  return { kind: "hugging-face", repo, filePath: checkRepoPath(filePart, source), quantization: null, revision };
}

/** A file path inside a repo: one or more safe segments, so neither the URL nor the disk can be escaped. */
export function checkRepoPath(filePath: string, source: string): string {
  const segments = filePath.split("/");
  for (const segment of segments) checkSafeSegment(segment, `path segment of '${source}'`);
  return segments.join("/");
}

function parseUrl(source: string): ModelSource {
  // new URL() would quietly resolve `..` and `%2e%2e`; refuse them before it can.
  if (/(^|\/)(\.|%2e){1,2}(\/|$|\?|#)/i.test(source.replace(/^[a-z]+:\/\/[^/]*/i, ""))) {
    throw invalid(source, "contains '.' or '..' path segments");
  }
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw invalid(source, "is not a valid URL");
  }
  if (url.username !== "" || url.password !== "") throw invalid(source, "carries credentials in the URL; rbee does not send URL credentials");
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw invalid(source, "uses http://, which is only allowed for this machine (localhost); use https://");
  }
  const last = url.pathname.split("/").pop() ?? "";
  let fileName: string;
  try {
    fileName = decodeURIComponent(last);
  } catch {
    throw invalid(source, "has a file name that is not valid percent-encoding");
  }
  if (!fileName.toLowerCase().endsWith(".gguf")) throw invalid(source, "does not end in a .gguf file name");
  return { kind: "https", url, fileName: checkSafeSegment(fileName, `file name of '${source}'`) };
}

function parseFile(source: string): ModelSource {
  let filePath: string;
  if (source.startsWith("file://")) {
    try {
      filePath = fileURLToPath(source);
    } catch (error) {
      throw invalid(source, `is not a valid file URL (${(error as Error).message})`);
    }
  } else {
    filePath = source.slice("file:".length);
  }
  if (!path.isAbsolute(filePath)) throw invalid(source, "must name an absolute path, e.g. file:/models/x.gguf");
  if (path.normalize(filePath) !== filePath || /%2e/i.test(source)) throw invalid(source, "must be a normalized path without '.', '..' or '//'");
  const fileName = path.basename(filePath);
  if (!fileName.toLowerCase().endsWith(".gguf")) throw invalid(source, "does not end in a .gguf file name");
  if (!isSafeSegment(fileName)) {
    // The user's own file: what to do about its name is theirs to choose; a link is offered where
    // a safe name can be made of it.
    const safeName = safeNameFor(fileName);
    const linked = safeName === undefined ? undefined : path.join(path.dirname(filePath), safeName);
    const link = linked === undefined ? "" : `, or link it under such a name (ln -s ${shellQuoted(filePath)} ${shellQuoted(linked)}) and ask for file:${linked}`;
    throw new RbeeError(400, "invalid_artifact_id", `model file '${filePath}' has a name the catalog cannot take (letters, digits, '.', '_', '+' and '-' only, not starting with '.'); rename it${link}`);
  }
  return { kind: "file", filePath, fileName };
}

/** `name` (a .gguf file's) made safe for the catalog: its stem's other characters as '-', at most 200 characters in all; undefined when nothing is left. */
function safeNameFor(name: string): string | undefined {
  const stem = name
    .slice(0, -".gguf".length)
    .replace(/[^A-Za-z0-9._+-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[.-]+|[.-]+$/g, "")
    .slice(0, 200 - ".gguf".length);
  const safe = `${stem}.gguf`;
  return stem !== "" && isSafeSegment(safe) ? safe : undefined;
}

/** `text` as one shell word, in single quotes. */
function shellQuoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function invalid(source: string, why: string): RbeeError {
  return new RbeeError(400, "invalid_artifact_id", `model id '${withoutQuery(source)}' ${why}; accepted forms: ${MODEL_ID_FORMS}`);
}
