// The name clients type in `model` for a model a hive has in its catalog, derived from its source
// by one rule everywhere: `npm start` names the worker it spawns with it, each hive reports its
// catalog under it, and the queen's auto-spawn and /v1/models list models by it. Deterministic,
// so the same file has the same name on every hive.
import { BARE_HUGGING_FACE_ID, withHuggingFacePrefix } from "./bare-model-id.js";

/** The schemes a model source starts with; a bare `org/repo` is one too (names never hold `/`). */
const SOURCE_SCHEME = /^(hf:|https?:\/\/|file:)/;

/** Longest name, as the ModelName schema allows. */
const MAX_NAME_CHARS = 128;

/** Whether `text` is where a model comes from (`hf:…`, `org/repo`, a URL, `file:`) rather than a model's name. */
export function isModelSource(text: string): boolean {
  return SOURCE_SCHEME.test(text) || BARE_HUGGING_FACE_ID.test(text);
}

/**
 * `hf:org/repo:Qwen2.5-0.5B-Q4_K_M.gguf` → `Qwen2.5-0.5B-Q4_K_M`; `file:/m/tiny.gguf` → `tiny`;
 * `https://host/x/model.gguf?sig=…` → `model`; `hf:org/Repo-GGUF:q4_k_m` → `Repo-GGUF-Q4_K_M`;
 * `hf:org/Repo` and `org/Repo` → `Repo`. A revision (`@v1`, `#main`) and a URL's query are left out. The name
 * holds letters, digits and `. _ : -` only: never `@`, which pins a hive (`model@hive`).
 */
export function modelNameFromSource(source: string): string {
  let rest = withHuggingFacePrefix(source).replace(/[?#].*$/, "");
  if (rest.startsWith("hf:")) return modelNameFromHuggingFace(rest.slice("hf:".length));
  if (rest.startsWith("file:")) rest = safeDecode(rest);
  return modelNameFromFile(rest.split("/").at(-1) ?? "");
}

/** A name from a GGUF file name: `Qwen2.5-0.5B-Q4_K_M.gguf` → `Qwen2.5-0.5B-Q4_K_M`. */
export function modelNameFromFile(fileName: string): string {
  const name = fileName
    .replace(/\.gguf$/i, "")
    .replace(/[^A-Za-z0-9._:-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, MAX_NAME_CHARS);
  return name || "model";
}

function modelNameFromHuggingFace(id: string): string {
  const revisionAt = id.lastIndexOf("@");
  const withoutRevision = revisionAt >= 0 ? id.slice(0, revisionAt) : id;
  const colon = withoutRevision.indexOf(":");
  const repoPath = colon >= 0 ? withoutRevision.slice(0, colon) : withoutRevision;
  const tail = colon >= 0 ? withoutRevision.slice(colon + 1) : "";
  const [, repo = "", ...filePath] = repoPath.split("/");
  if (filePath.length > 0) return modelNameFromFile(filePath.at(-1) ?? "");
  if (tail.toLowerCase().endsWith(".gguf")) return modelNameFromFile(tail.split("/").at(-1) ?? "");
  // A quantization picks a file from the repo: the repo names the model, the quantization which.
  return modelNameFromFile(tail === "" ? repo : `${repo}-${tail.toUpperCase()}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
