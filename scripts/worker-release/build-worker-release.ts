// Builds the worker release archives `npm run release:worker` publishes: this repository's worker,
// bundled once with node-llama-cpp left to the machine that runs it (bundle-worker.ts says why),
// packed with its `rbee-worker.json` into one `<type>-llm-worker-rbee-v<version>-<platform>.tar.gz`
// per worker type and platform, plus `manifest.json` naming each with its sha256. The archives are
// what the hive's GitHub-releases vendor installs from a release's assets.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { workerArtifactId, type WorkerType } from "../../hive/catalog/worker/worker-artifact.js";
import { BUNDLE_MANIFEST_FILE, type WorkerBundleManifest } from "../../hive/catalog/worker/worker-bundle-manifest.js";
import { BUNDLE_ENTRY, bundleWorker } from "../../hive/provisioners/worker/bundle-worker.js";
import { localWorkerVersion } from "../../hive/provisioners/worker/local-build-vendor.js";
import { filesUnder, tarGz } from "../../shared/archive/write-tar-gz.js";

/** The worker types each platform's node-llama-cpp has GPU backends for (Metal only on macOS, CUDA and Vulkan elsewhere). */
export const RELEASE_MATRIX: Readonly<Record<string, readonly WorkerType[]>> = {
  linux: ["cpu", "cuda", "vulkan"],
  macos: ["cpu", "metal"],
  windows: ["cpu", "cuda", "vulkan"],
};

export const RELEASE_MANIFEST_FILE = "manifest.json";

export const ReleaseAsset = z.object({
  name: z.string(),
  version: z.string(),
  platform: z.string(),
  workerType: z.string(),
  sha256: z.string(),
  sizeBytes: z.number(),
});
export type ReleaseAsset = z.infer<typeof ReleaseAsset>;
export const ReleaseManifest = z.object({ name: z.literal("rbee-worker"), version: z.string(), tag: z.string(), nodeLlamaCpp: z.string(), assets: z.array(ReleaseAsset) });
export type ReleaseManifest = z.infer<typeof ReleaseManifest>;

export interface ReleaseRequest {
  repoRoot: string;
  /** Where the archives and manifest.json go; emptied first. */
  outDir: string;
  /** Default: every platform in RELEASE_MATRIX. */
  platforms?: readonly string[];
  /** Default: every type the platform has. */
  workerTypes?: readonly WorkerType[];
  /** Archive time stamps, seconds (SOURCE_DATE_EPOCH); 0 by default, for reproducible bytes. */
  mtimeSeconds?: number;
}

export async function buildWorkerRelease(request: ReleaseRequest): Promise<ReleaseManifest> {
  const version = await localWorkerVersion(request.repoRoot);
  const nodeLlamaCpp = z.object({ version: z.string() }).parse(JSON.parse(await readFile(path.join(request.repoRoot, "node_modules", "node-llama-cpp", "package.json"), "utf8"))).version;
  const bundleDir = await mkdtemp(path.join(tmpdir(), "rbee-worker-release-"));
  try {
    await bundleWorker(request.repoRoot, bundleDir, AbortSignal.timeout(300_000), "at-run-time");
    const bundle = await filesUnder(bundleDir);
    await rm(request.outDir, { recursive: true, force: true });
    await mkdir(request.outDir, { recursive: true });
    const assets: ReleaseAsset[] = [];
    for (const platform of request.platforms ?? Object.keys(RELEASE_MATRIX)) {
      const types = RELEASE_MATRIX[platform];
      if (!types) throw new Error(`--platform ${platform}: expected one of ${Object.keys(RELEASE_MATRIX).join(", ")}`);
      for (const workerType of types.filter((type) => request.workerTypes?.includes(type) ?? true)) {
        const manifest: WorkerBundleManifest = { name: "rbee-worker", version, workerType, platform, entry: BUNDLE_ENTRY, nodeLlamaCpp };
        const files = [...bundle, { name: BUNDLE_MANIFEST_FILE, bytes: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) }];
        const archive = tarGz(files, request.mtimeSeconds ?? 0);
        const name = `${workerArtifactId(workerType, version, platform)}.tar.gz`;
        await writeFile(path.join(request.outDir, name), archive);
        assets.push({ name, version, platform, workerType, sha256: createHash("sha256").update(archive).digest("hex"), sizeBytes: archive.length });
      }
    }
    if (assets.length === 0) throw new Error("no worker type asked for is built for the platforms asked for; see RELEASE_MATRIX");
    const manifest: ReleaseManifest = { name: "rbee-worker", version, tag: `v${version}`, nodeLlamaCpp, assets };
    await writeFile(path.join(request.outDir, RELEASE_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // The form `sha256sum -c` reads, for people checking a download by hand.
    await writeFile(path.join(request.outDir, "SHA256SUMS"), assets.map((asset) => `${asset.sha256}  ${asset.name}\n`).join(""));
    return manifest;
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }
}
