// A fingerprint of the sources a local worker build is made from (worker/ and shared/, tests
// left out, plus the node-llama-cpp it links to), so a build from before a `git pull` or an edit
// is noticed and rebuilt: its version alone (package.json's) does not change with every commit.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

const SOURCE_FOLDERS = ["worker", "shared"];
const NOT_SHIPPED = /(\.test\.ts|\.d\.ts)$|[\\/]testing[\\/]/;

export async function localSourceFingerprint(repoRoot: string): Promise<string> {
  const hash = createHash("sha256");
  const files: string[] = [];
  for (const folder of SOURCE_FOLDERS) {
    const entries = await readdir(path.join(repoRoot, folder), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      const file = path.join(entry.parentPath, entry.name);
      if (entry.isFile() && /\.(ts|json)$/.test(entry.name) && !NOT_SHIPPED.test(file)) files.push(path.relative(repoRoot, file));
    }
  }
  for (const file of files.sort()) hash.update(`${file}\0`).update(await readFile(path.join(repoRoot, file))).update("\0");
  const llama = JSON.parse(await readFile(path.join(repoRoot, "node_modules", "node-llama-cpp", "package.json"), "utf8")) as { version?: string };
  hash.update(`node-llama-cpp@${llama.version ?? "?"}`);
  return hash.digest("hex");
}
