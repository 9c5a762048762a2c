// A worker release, end to end on this machine: `npm run release:worker` builds the archive, a
// fake GitHub serves it as a release asset, the hive's GitHub-releases vendor installs it into a
// fresh cache (checksum verified, unpacked, linked to the hive's node-llama-cpp), and the installed
// worker, started from a folder that has never seen the build tree, serves a chat with the tiny
// model. The release output is deleted before the install, so nothing can lean on it.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProvisionListener } from "../../hive/catalog/artifact-provisioner.js";
import { hostPlatform } from "../../hive/catalog/worker/worker-platform.js";
import { resolveWorker } from "../../hive/provisioners/worker/resolve-worker.js";
import { createWorkerProvisioner, installWorker } from "../../hive/provisioners/worker/worker-catalog.js";
import { workerCommand } from "../../hive/provisioners/worker/worker-command.js";
import { ReleaseManifest } from "../../scripts/worker-release/build-worker-release.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github.js";
import { type ChatCompletionBody, greedyChat, json, post, REPO_ROOT, startWorker, writeTinyModel, type TinyModel } from "../support/running-worker.js";

let dir: string;
let github: FakeGitHub;
let model: TinyModel;
let manifest: ReleaseManifest;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-worker-release-"));
  github = await startFakeGitHub();
  model = await writeTinyModel();
  const out = path.join(dir, "release");
  await execa("npm", ["run", "release:worker", "--", "--out", out, "--platform", hostPlatform(), "--worker-type", "cpu"], { cwd: REPO_ROOT });
  manifest = ReleaseManifest.parse(JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")));
  const assets = [];
  for (const name of [...manifest.assets.map((asset) => asset.name), "manifest.json", "SHA256SUMS"]) assets.push({ name, content: await readFile(path.join(out, name)) });
  github.addRelease("rbee-dev", "rbee", manifest.tag, assets);
  await rm(out, { recursive: true, force: true });
}, 120_000);

afterAll(async () => {
  await github?.close();
  await model?.remove();
  await rm(dir, { recursive: true, force: true });
});

function recorder(): ProvisionListener & { actions: string[]; messages: string[] } {
  const actions: string[] = [];
  const messages: string[] = [];
  return { actions, messages, narrate: (action, message) => (actions.push(action), messages.push(message)), progress: () => {} };
}

describe("worker releases", () => {
  it("writes one archive per asked worker type and platform, named like the catalog id, with its sha256 in the manifest", () => {
    expect(manifest).toMatchObject({ name: "rbee-worker", tag: `v${manifest.version}` });
    expect(manifest.assets).toEqual([
      { name: `cpu-llm-worker-rbee-v${manifest.version}-${hostPlatform()}.tar.gz`, version: manifest.version, platform: hostPlatform(), workerType: "cpu", sha256: expect.stringMatching(/^[0-9a-f]{64}$/), sizeBytes: expect.any(Number) },
    ]);
  });

  it("installs from a GitHub release into a fresh cache and serves a chat from a folder that never saw the build tree", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache"), githubApiUrl: github.url, env: {} });
    const listener = recorder();
    const entry = await installWorker(provisioner, { workerType: "cpu", source: `gh:rbee-dev/rbee@${manifest.tag}` }, AbortSignal.timeout(60_000), listener);

    const asset = manifest.assets[0];
    expect(entry.details).toMatchObject({ vendor: "github-releases", runtime: "node", entry: "worker.mjs", sha256: asset?.sha256, platform: hostPlatform() });
    expect(listener.actions).toEqual(["fetch", "resolve", "download", "verified", "unpacked", "linked"]);
    expect(listener.messages.at(-1)).toMatch(/^uses this hive's node-llama-cpp /);
    // Nothing in the installed bundle points back at the tree it was built in.
    const folder = provisioner.catalog.folderOf(entry.id);
    const files = (await readdir(folder, { recursive: true })).filter((name) => /\.(mjs|json)$/.test(name) && !name.startsWith("node_modules"));
    expect(files).toContain("worker.mjs");
    for (const file of files) {
      const text = await readFile(path.join(folder, file), "utf8");
      expect(text, file).not.toContain(REPO_ROOT.replace(/\/$/, ""));
      expect(text, file).not.toContain("file://");
    }

    const installed = await resolveWorker(provisioner.catalog, "cpu");
    if (!installed) throw new Error("the installed release is not resolvable");
    const elsewhere = await mkdtemp(path.join(dir, "elsewhere-"));
    const worker = await startWorker({ workerId: "wrk_release1", modelPath: model.path, launch: { ...workerCommand(provisioner.catalog, installed), cwd: elsewhere } });
    try {
      const response = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4 }));
      expect(response.status).toBe(200);
      const body = await json<ChatCompletionBody>(response);
      expect(body.choices[0]?.message.role).toBe("assistant");
      expect(body.usage.completion_tokens).toBeGreaterThan(0);
    } finally {
      await worker.kill();
    }
  });

  it("installs the same archive for a bare worker id from the hive's default release repository", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-bare"), githubApiUrl: github.url, env: {} });
    const id = `cpu-llm-worker-rbee-v${manifest.version}-${hostPlatform()}`;
    const entry = await installWorker(provisioner, { workerType: "cpu", source: id, defaultReleaseRepo: "rbee-dev/rbee" }, AbortSignal.timeout(60_000), recorder());
    expect(entry).toMatchObject({ id, details: { origin: `${github.url}/rbee-dev/rbee/releases/download/${manifest.tag}/${id}.tar.gz`, entry: "worker.mjs" } });
  });
});
