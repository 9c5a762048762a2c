// Writes a benchmark's figures as JSON to bench/results/<name>-<date>.json, so runs on different
// days and machines can be compared; every benchmark that keeps results calls it.
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** Writes `results` and returns the file's path. */
export async function writeBenchResults(name: string, results: unknown): Promise<string> {
  const at = new Date();
  const file = fileURLToPath(new URL(`../results/${name}-${at.toISOString().slice(0, 19).replaceAll(":", "-")}.json`, import.meta.url));
  await writeFile(file, `${JSON.stringify({ at: at.toISOString(), ...(results as object) }, null, 2)}\n`);
  return file;
}
