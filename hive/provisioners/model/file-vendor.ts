// Puts a GGUF already on this machine (`file:/models/x.gguf`) into the model catalog. By default
// the entry links to the file: a 40 GB model is not worth a second copy on the same machine. A
// copy is made when the hive is told to (`RBEE_LOCAL_MODELS=copy`, for files on removable or
// network disks) or when this system refuses symlinks (Windows without developer mode); which one
// happened is narrated, because a linked entry breaks when its file moves.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm, stat, symlink } from "node:fs/promises";
import path from "node:path";
import { RbeeError } from "../../../shared/errors.js";
import type { ModelArtifact } from "../../catalog/model/model-artifact.js";
import { modelEntry } from "../../catalog/model/model-entry.js";
import type { VendorContext, VendorSource } from "../../catalog/vendor-source.js";
import { ensureDiskSpace, formatBytes } from "../download/disk-space.js";
import { hashFileInto } from "../download/hash-file.js";
import { ProgressMeter } from "../download/progress-meter.js";
import { DOWNLOAD_DEFAULTS, type DownloadSettings } from "../download/resumable-download.js";
import { writeAll } from "../download/write-all.js";
import { parseModelSource } from "./model-source.js";

/** `link`: a symlink to the file where it is; `copy`: a copy the entry owns. */
export type LocalFileMode = "link" | "copy";

export class FileVendor implements VendorSource<ModelArtifact> {
  readonly name = "file";

  constructor(
    private readonly mode: LocalFileMode = "link",
    private readonly settings: Pick<DownloadSettings, "progressIntervalMs" | "freeBytes" | "diskMarginBytes"> = DOWNLOAD_DEFAULTS,
  ) {}

  supports(source: string): boolean {
    if (!source.startsWith("file:")) return false;
    parseModelSource(source); // see HuggingFaceVendor.supports
    return true;
  }

  async fetch(request: { id: string; source: string }, folder: string, context: VendorContext): Promise<ModelArtifact> {
    const source = parseModelSource(request.source);
    if (source.kind !== "file") throw new RbeeError(400, "unsupported_artifact_id", `'${request.source}' is not a file: model id`);
    const { filePath, fileName } = source;
    const info = await stat(filePath).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") {
        throw new RbeeError(404, "model_not_found", `${filePath} does not exist on this hive's machine; file: ids name a file on the hive itself, so check the path there`);
      }
      if (error.code === "EACCES" || error.code === "EPERM") {
        throw new RbeeError(403, "model_access_denied", `the hive's user may not read ${filePath}; make it readable to that user or copy it somewhere it can read`);
      }
      throw error;
    });
    if (!info.isFile()) throw new RbeeError(400, "invalid_artifact_id", `${filePath} is not a regular file; name the .gguf file itself`);
    const target = path.join(folder, fileName);
    // What an earlier failed attempt left: a link, a copy, or a partial copy.
    await Promise.all([rm(target, { force: true }), rm(`${target}.part`, { force: true })]);
    let linked = false;
    if (this.mode === "link") linked = await this.link(filePath, target, info.size, context);
    else context.narrate("copy", `copying ${filePath} (${formatBytes(info.size)}) into the catalog, as this hive is set to (RBEE_LOCAL_MODELS=copy): the entry keeps working if the original moves`);
    const hash = createHash("sha256");
    if (linked) {
      // Hashing reads the whole file once, but the entry then records what it linked to.
      const meter = new ProgressMeter(context.progress, 0, this.settings.progressIntervalMs);
      await hashFileInto(filePath, hash, context.signal, meter, info.size);
      meter.finish(info.size, info.size);
    } else {
      await this.copy(filePath, target, info.size, hash, context);
    }
    const sha256 = hash.digest("hex");
    context.narrate("verify", `${fileName}: SHA-256 ${sha256} recorded`);
    return modelEntry({ id: request.id, vendor: this.name, folder, fileName, origin: filePath, sha256, linked });
  }

  /** True once linked; false (narrated) when this system refuses symlinks, so the caller copies. */
  private async link(filePath: string, target: string, size: number, context: VendorContext): Promise<boolean> {
    try {
      await symlink(filePath, target, "file");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      context.narrate("copy", `could not link to ${filePath} (${code}); copying it (${formatBytes(size)}) instead`);
      return false;
    }
    context.narrate("link", `linked the catalog entry to ${filePath} instead of copying ${formatBytes(size)}; the model stops loading if that file moves (set RBEE_LOCAL_MODELS=copy for a copy)`);
    return true;
  }

  /** Copies through `<name>.part`, renamed only when complete, hashing on the way. */
  private async copy(filePath: string, target: string, size: number, hash: ReturnType<typeof createHash>, context: VendorContext): Promise<void> {
    await ensureDiskSpace({ folder: path.dirname(target), totalBytes: size, presentBytes: 0, label: filePath, freeBytes: this.settings.freeBytes, marginBytes: this.settings.diskMarginBytes });
    const partPath = `${target}.part`;
    const meter = new ProgressMeter(context.progress, 0, this.settings.progressIntervalMs);
    const handle = await open(partPath, "w");
    let bytes = 0;
    try {
      for await (const chunk of createReadStream(filePath, { highWaterMark: 1024 * 1024, signal: context.signal })) {
        const buffer = chunk as Buffer;
        await writeAll(handle, buffer, partPath);
        hash.update(buffer);
        bytes += buffer.length;
        meter.update(bytes, size);
      }
    } finally {
      await handle.close();
    }
    meter.finish(bytes, size);
    await rename(partPath, target);
  }
}
