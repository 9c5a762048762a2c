// Gives an unpacked worker release the hive's own node-llama-cpp. A release bundle imports
// `node-llama-cpp` by its bare name and carries none of it (see bundle-worker.ts for why), so
// the install links `<entry folder>/node_modules/node-llama-cpp` to the copy this hive was
// installed with: Node finds a bare import there, and follows the link to that copy's own files,
// dependencies and prebuilt (or locally built) llama.cpp binaries for this machine.
import { randomUUID } from "node:crypto";
import { lstat, mkdir, readFile, realpath, rename, rm, stat, symlink } from "node:fs/promises";
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
  if (process.platform === "win32") {
    await rm(link, { recursive: true, force: true });
    // A junction: it needs no administrator rights or developer mode, unlike a symlink.
    await symlink(host.folder, link, "junction");
  } else {
    // Made aside and renamed over the old link: a worker starting meanwhile finds one link or the other, never none.
    const aside = `${link}.${process.pid}.${randomUUID()}`;
    await symlink(host.folder, aside, "dir");
    await rename(aside, link).catch(async (error: unknown) => {
      await rm(aside, { force: true });
      throw error;
    });
  }
  await stat(path.join(link, "package.json"));
  return host;
}

/**
 * Links `<folder>/node_modules/node-llama-cpp` to the hive's copy again when it leads elsewhere: the
 * release was installed by the hive of another checkout of rbee sharing this cache, and that
 * checkout may since have been deleted or moved. Returns the hive's copy when it relinked,
 * undefined when the link was right or there is none (a release that is one script or executable).
 */
export async function relinkHostNodeLlamaCpp(folder: string): Promise<HostNodeLlamaCpp | undefined> {
  const link = path.join(folder, "node_modules", "node-llama-cpp");
  if ((await lstat(link).catch(() => undefined)) === undefined) return undefined;
  const host = await hostNodeLlamaCpp();
  const linked = await realpath(link).catch(() => undefined); // undefined: it leads nowhere now
  if (linked !== undefined && linked === (await realpath(host.folder))) return undefined;
  return linkHostNodeLlamaCpp(folder);
}
