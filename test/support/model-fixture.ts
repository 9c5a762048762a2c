// What the model vendor tests share: a model provisioner over a cache folder inside its own tmp
// parent (so a test can prove nothing was written beside the cache), pointed at a fake hub, with
// retries shortened, and a listener that records the narration and progress a job would see.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ArtifactProvisioner, ProvisionListener } from "../../hive/catalog/artifact-provisioner.js";
import type { ModelArtifact } from "../../hive/catalog/model/model-artifact.js";
import { createModelProvisioner, type ModelCatalogOptions } from "../../hive/provisioners/model/model-vendors.js";
import type { FakeHub } from "./fake-hub.js";

export interface RecordingListener extends ProvisionListener {
  said: Array<{ action: string; message: string }>;
  reports: Array<{ bytes: number; total: number | null; bytesPerSecond: number }>;
  /** Every narrated line as `action: message`, one per line, for `toContain`/`toMatch`. */
  text(): string;
}

/** A listener that records what a job would hear; `onProgress` sees each progress report. */
export function recordingListener(onProgress?: (bytes: number) => void): RecordingListener {
  const said: RecordingListener["said"] = [];
  const reports: RecordingListener["reports"] = [];
  return {
    said,
    reports,
    narrate: (action, message) => said.push({ action, message }),
    progress(bytes, total, bytesPerSecond) {
      reports.push({ bytes, total, bytesPerSecond });
      onProgress?.(bytes);
    },
    text: () => said.map((each) => `${each.action}: ${each.message}`).join("\n"),
  };
}

export interface ModelFixture {
  /** The tmp folder that holds only `cacheDir`. */
  parent: string;
  cacheDir: string;
  models: ArtifactProvisioner<ModelArtifact>;
  /** Another provisioner over the same cache, e.g. with other env or settings. */
  withOptions(options: Partial<ModelCatalogOptions>): ArtifactProvisioner<ModelArtifact>;
  /** Every path under `parent`, relative, sorted: to assert what was (not) written. */
  tree(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export async function modelFixture(hub: FakeHub | null, options: Partial<ModelCatalogOptions> = {}): Promise<ModelFixture> {
  const parent = await mkdtemp(path.join(tmpdir(), "rbee-models-"));
  const cacheDir = path.join(parent, "cache");
  const base: ModelCatalogOptions = {
    cacheDir,
    // HF_TOKEN_PATH points at nothing, so a developer's own `hf auth login` token never joins in.
    env: { HF_ENDPOINT: hub?.url, HF_TOKEN_PATH: path.join(tmpdir(), "rbee-no-such-hf-token") },
    download: { retryBaseMs: 10, retryMaxMs: 50, stallTimeoutMs: 5_000 },
  };
  const create = (more: Partial<ModelCatalogOptions>) =>
    createModelProvisioner({ ...base, ...options, ...more, env: { ...base.env, ...options.env, ...more.env }, download: { ...base.download, ...options.download, ...more.download } });
  return {
    parent,
    cacheDir,
    models: create({}),
    withOptions: create,
    tree: () => listTree(parent),
    cleanup: () => rm(parent, { recursive: true, force: true }),
  };
}

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map((each) => each.split(path.sep).join("/")).sort();
}
