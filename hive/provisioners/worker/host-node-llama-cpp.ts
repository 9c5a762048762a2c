// Gives an unpacked worker release the hive's own node-llama-cpp. A release bundle imports
// `node-llama-cpp` by its bare name and carries none of it (see bundle-worker.ts for why), so
// the install links `<entry folder>/node_modules/node-llama-cpp` to the copy this hive was
// installed with: Node finds a bare import there, and follows the link to that copy's own files,
// dependencies and prebuilt (or locally built) llama.cpp binaries for this machine.
import { mkdir, readFile, rm, stat, symlink } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { RbeeError } from "../../../shared/errors.js";

export interface HostNodeLlamaCpp {
  folder: string;
  version: string;
}

const PackageJson = z.object({ name: z.literal("node-llama-cpp"), version: z.string() });

/** The node-llama-cpp package this hive runs with, found as Node would: in node_modules folders up from here. */
export async function hostNodeLlamaCpp(from: string = path.dirname(fileURLToPath(import.meta.url))): Promise<HostNodeLlamaCpp> {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const folder = path.join(dir, "node_modules", "node-llama-cpp");
    const raw = await readFile(path.join(folder, "package.json"), "utf8").catch(() => undefined);
    const parsed = raw === undefined ? undefined : PackageJson.safeParse(JSON.parse(raw));
    if (parsed?.success) return { folder, version: parsed.data.version };
    if (path.dirname(dir) === dir) break;
  }
  throw new RbeeError(500, "node_llama_cpp_missing", `this hive's installation has no node-llama-cpp (looked in node_modules above ${from}); reinstall rbee (npm install) so worker releases can use it`);
}

/** Links `<folder>/node_modules/node-llama-cpp` to the hive's copy; returns that copy. */
export async function linkHostNodeLlamaCpp(folder: string): Promise<HostNodeLlamaCpp> {
  const host = await hostNodeLlamaCpp();
  const modules = path.join(folder, "node_modules");
  await mkdir(modules, { recursive: true });
  const link = path.join(modules, "node-llama-cpp");
  await rm(link, { recursive: true, force: true });
  // A junction on Windows: it needs no administrator rights or developer mode, unlike a symlink.
  await symlink(host.folder, link, process.platform === "win32" ? "junction" : "dir");
  await stat(path.join(link, "package.json"));
  return host;
}
