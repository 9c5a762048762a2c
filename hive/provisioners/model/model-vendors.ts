// The hive's model catalog: GGUF models under `<cacheDir>/models`, filled by three vendors
// (Hugging Face, plain https URLs, files already on this machine). The hive creates one
// provisioner at start; two jobs asking for the same model share its one download.
import path from "node:path";
import { RbeeError } from "../../../shared/errors.js";
import { ArtifactProvisioner } from "../../catalog/artifact-provisioner.js";
import { FilesystemCatalog } from "../../catalog/filesystem-catalog.js";
import { damagedModelFile } from "../../catalog/model/damaged-model-file.js";
import { ModelArtifact } from "../../catalog/model/model-artifact.js";
import { DOWNLOAD_DEFAULTS, type DownloadSettings } from "../download/resumable-download.js";
import { FileVendor, type LocalFileMode } from "./file-vendor.js";
import type { Environment } from "./hugging-face-config.js";
import { HttpsVendor } from "./https-vendor.js";
import { HuggingFaceVendor } from "./hugging-face-vendor.js";
import { MODEL_ID_FORMS } from "./model-source.js";

export { MODEL_ID_FORMS } from "./model-source.js";

export const DEFAULTS = {
  /** The catalog's folder under the hive's cache folder. */
  folderName: "models",
  /** What a `file:` model becomes in the catalog (`RBEE_LOCAL_MODELS` overrides it). */
  localFiles: "link" as LocalFileMode,
} as const;

export interface ModelCatalogOptions {
  /** The hive's cache folder, e.g. `~/.cache/rbee`; models live in `<cacheDir>/models`. */
  cacheDir: string;
  /**
   * Where HF_ENDPOINT, HF_TOKEN (huggingface_hub's variables), RBEE_LOCAL_MODELS and
   * RBEE_MAX_DOWNLOAD_BYTES (the size cap, bytes; default 256 GiB) are read; default `process.env`.
   */
  env?: Environment;
  log?: (line: string) => void;
  /** Overrides RBEE_LOCAL_MODELS: `link` (default) or `copy` for `file:` models. */
  localFiles?: LocalFileMode;
  /** Retry, stall, progress and disk-space settings; tests shorten the waits. */
  download?: Partial<DownloadSettings>;
}

export function createModelProvisioner(options: ModelCatalogOptions): ArtifactProvisioner<ModelArtifact> {
  const env = options.env ?? process.env;
  const settings: DownloadSettings = { ...DOWNLOAD_DEFAULTS, ...maxDownloadBytes(env.RBEE_MAX_DOWNLOAD_BYTES), ...options.download };
  const catalog = new FilesystemCatalog<ModelArtifact>(path.join(options.cacheDir, DEFAULTS.folderName), ModelArtifact, "model", options.log);
  const vendors = [
    new HuggingFaceVendor(env, settings),
    new HttpsVendor(env, settings),
    new FileVendor(options.localFiles ?? localFileMode(env.RBEE_LOCAL_MODELS), settings),
  ];
  return new ArtifactProvisioner(catalog, vendors, "model", MODEL_ID_FORMS, damagedModelFile);
}

function localFileMode(raw: string | undefined): LocalFileMode {
  if (raw === undefined || raw === "") return DEFAULTS.localFiles;
  if (raw === "link" || raw === "copy") return raw;
  throw new RbeeError(400, "invalid_local_models_mode", `RBEE_LOCAL_MODELS is '${raw}'; use 'link' (the default: the catalog links to file: models) or 'copy'`);
}

/** RBEE_MAX_DOWNLOAD_BYTES: the largest model file this hive downloads, bytes. */
function maxDownloadBytes(raw: string | undefined): Partial<DownloadSettings> {
  if (raw === undefined || raw === "") return {};
  if (!/^\d+$/.test(raw) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) {
    throw new RbeeError(400, "invalid_max_download_bytes", `RBEE_MAX_DOWNLOAD_BYTES is '${raw}'; use a whole number of bytes, e.g. 274877906944 for 256 GiB (the default)`);
  }
  return { maxBytes: Number(raw) };
}
