// Makes a local worker build in a catalog look as if another checkout of rbee had built it, a
// clone deleted since: the same sources, but its bundle loads node-llama-cpp from that clone's
// node_modules, which are gone. A hive sharing the cache (~/.cache/rbee by default) used to start
// such a build and see its worker fail with "Cannot find module …/node-llama-cpp/dist/index.js".
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { METADATA_FILE } from "../../hive/catalog/filesystem-catalog.js";
import { REPO_ROOT } from "./running-worker.js";

/** The file:// URL this checkout's local builds load node-llama-cpp from, or the gone checkout's. */
export function nodeLlamaCppUrl(repoRoot: string = REPO_ROOT): string {
  return pathToFileURL(path.join(repoRoot, "node_modules", "node-llama-cpp")).href;
}

/** Rewrites the build in `folder` (a worker catalog entry's) as if `goneRoot` had built it. */
export async function asIfBuiltByGoneCheckout(folder: string, goneRoot: string): Promise<void> {
  for (const file of await bundleFiles(folder)) {
    await writeFile(file, (await readFile(file, "utf8")).replaceAll(nodeLlamaCppUrl(), nodeLlamaCppUrl(goneRoot)));
  }
  const metadataFile = path.join(folder, METADATA_FILE);
  const metadata = JSON.parse(await readFile(metadataFile, "utf8")) as { details: { origin: string } };
  metadata.details.origin = path.join(goneRoot, "worker", "main.ts");
  await writeFile(metadataFile, JSON.stringify(metadata, null, 2));
}

/** The JavaScript of the build in `folder`: its entry and its chunks, together. */
export async function bundledText(folder: string): Promise<string> {
  const texts = await Promise.all((await bundleFiles(folder)).map((file) => readFile(file, "utf8")));
  return texts.join("\n");
}

async function bundleFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith(".mjs")).map((entry) => path.join(entry.parentPath, entry.name));
}
