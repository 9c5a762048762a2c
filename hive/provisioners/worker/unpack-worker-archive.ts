// Turns a downloaded worker release archive into a runnable catalog entry: unpacks it into the
// entry's folder, reads its `rbee-worker.json` and checks it is the worker that was asked for,
// and links the hive's own node-llama-cpp beside it (host-node-llama-cpp.ts). Used by the
// GitHub-releases vendor after the archive's checksum was verified.
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { RbeeError } from "../../../shared/errors.js";
import { METADATA_FILE } from "../../catalog/filesystem-catalog.js";
import type { VendorContext } from "../../catalog/vendor-source.js";
import { BUNDLE_MANIFEST_FILE, WorkerBundleManifest } from "../../catalog/worker/worker-bundle-manifest.js";
import { catalogPlatform } from "../../catalog/worker/worker-platform.js";
import { extractTarGz } from "./extract-tar-gz.js";
import { linkHostNodeLlamaCpp } from "./host-node-llama-cpp.js";
import type { WorkerIdParts } from "./parse-worker-id.js";

/**
 * Unpacks `<folder>/<fileName>` (removed afterwards) and returns the file to start, relative to
 * `folder`. A refused archive leaves nothing behind, so no half-unpacked worker stays listed.
 */
export async function unpackWorkerArchive(folder: string, fileName: string, wanted: WorkerIdParts, context: VendorContext): Promise<string> {
  try {
    return await unpack(folder, fileName, wanted, context);
  } catch (error) {
    for (const name of await readdir(folder).catch(() => [])) {
      if (name !== METADATA_FILE) await rm(path.join(folder, name), { recursive: true, force: true });
    }
    throw error;
  }
}

async function unpack(folder: string, fileName: string, wanted: WorkerIdParts, context: VendorContext): Promise<string> {
  const archivePath = path.join(folder, fileName);
  const files = await extractTarGz(await readFile(archivePath), folder, fileName);
  // Its sha256 is recorded in the catalog entry; the unpacked files are what runs.
  await rm(archivePath, { force: true });
  context.narrate("unpacked", `unpacked ${files.length} file(s) from ${fileName}`);
  const raw = await readFile(path.join(folder, BUNDLE_MANIFEST_FILE), "utf8").catch(() => undefined);
  if (raw === undefined) throw invalidArchive(fileName, `holds no ${BUNDLE_MANIFEST_FILE}`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw invalidArchive(fileName, `has a ${BUNDLE_MANIFEST_FILE} that is not JSON`);
  }
  const parsed = WorkerBundleManifest.safeParse(json);
  if (!parsed.success) throw invalidArchive(fileName, `has a ${BUNDLE_MANIFEST_FILE} whose ${parsed.error.issues[0]?.path.join(".") || "content"} is not valid`);
  const manifest = parsed.data;
  const differs = (["workerType", "version"] as const).find((key) => manifest[key] !== wanted[key]) ?? (catalogPlatform(manifest.platform) === wanted.platform ? undefined : "platform");
  if (differs) throw invalidArchive(fileName, `says it is a ${manifest.workerType} worker v${manifest.version} for ${manifest.platform}, but a ${wanted.workerType} worker v${wanted.version} for ${wanted.platform} was asked for (${differs} differs)`);
  if (!files.includes(manifest.entry)) throw invalidArchive(fileName, `names ${manifest.entry} as its entry, which it does not hold`);
  const host = await linkHostNodeLlamaCpp(folder);
  context.narrate(
    "linked",
    host.version === manifest.nodeLlamaCpp
      ? `uses this hive's node-llama-cpp ${host.version} (${host.folder})`
      : `warning: built against node-llama-cpp ${manifest.nodeLlamaCpp}, but this hive has ${host.version} (${host.folder}); install the worker release that matches this rbee version if it fails to start`,
  );
  return manifest.entry;
}

function invalidArchive(fileName: string, why: string): RbeeError {
  return new RbeeError(502, "worker_archive_invalid", `the worker archive ${fileName} ${why}; it was not installed`);
}
