// `npm run release:worker [-- --out <dir>] [--platform linux,macos,windows] [--worker-type cpu,cuda,…]`:
// builds the worker release archives and their manifest (scripts/worker-release/) for upload as the
// assets of a GitHub release tagged v<version>, and prints where they are.
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { WorkerType } from "../hive/catalog/worker/worker-artifact.js";
import { buildWorkerRelease, RELEASE_MANIFEST_FILE } from "./worker-release/build-worker-release.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEFAULT_OUT = path.join(REPO_ROOT, "dist", "worker-release");

const { values } = parseArgs({
  options: { out: { type: "string" }, platform: { type: "string" }, "worker-type": { type: "string" }, help: { type: "boolean", short: "h" } },
  strict: true,
});
if (values.help) {
  process.stdout.write(`Usage: npm run release:worker -- [--out <dir>] [--platform linux,macos,windows] [--worker-type cpu,cuda,vulkan,metal]\n\nWrites <type>-llm-worker-rbee-v<version>-<platform>.tar.gz, ${RELEASE_MANIFEST_FILE} and SHA256SUMS into --out (default ${DEFAULT_OUT}).\n`);
  process.exit(0);
}
const list = (text: string | undefined) => text?.split(",").map((item) => item.trim()).filter((item) => item !== "");
const workerTypes = list(values["worker-type"])?.map((type) => {
  const parsed = WorkerType.safeParse(type);
  if (!parsed.success) throw new Error(`--worker-type ${type}: expected one of ${WorkerType.options.join(", ")}`);
  return parsed.data;
});
const outDir = path.resolve(values.out ?? DEFAULT_OUT);
const epoch = process.env.SOURCE_DATE_EPOCH;
const manifest = await buildWorkerRelease({
  repoRoot: REPO_ROOT,
  outDir,
  platforms: list(values.platform),
  workerTypes,
  mtimeSeconds: epoch && /^\d+$/.test(epoch) ? Number(epoch) : 0,
});
for (const asset of manifest.assets) process.stdout.write(`${asset.sha256}  ${asset.sizeBytes} bytes  ${path.join(outDir, asset.name)}\n`);
process.stdout.write(`release v${manifest.version} (node-llama-cpp ${manifest.nodeLlamaCpp} resolved on the hive): ${path.join(outDir, RELEASE_MANIFEST_FILE)}\n`);
