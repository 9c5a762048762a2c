// The GitHub-releases vendor against a fake GitHub on loopback: picking the asset named like the
// worker id, following the download redirect, checking GitHub's sha256 digest, and the errors a
// person sees when a release or an asset is missing.
import { lstat, mkdir, mkdtemp, readdir, realpath, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../../../test/support/fake-github.js";
import type { ArtifactProvisioner, ProvisionListener } from "../../catalog/artifact-provisioner.js";
import type { WorkerArtifact } from "../../catalog/worker/worker-artifact.js";
import { hostPlatform } from "../../catalog/worker/worker-platform.js";
import { BUNDLE_MANIFEST_FILE } from "../../catalog/worker/worker-bundle-manifest.js";
import { tarGz } from "../../../shared/archive/write-tar-gz.js";
import { hostNodeLlamaCpp, relinkHostNodeLlamaCpp } from "./host-node-llama-cpp.js";
import { resolveWorker } from "./resolve-worker.js";
import { createWorkerProvisioner, installWorker } from "./worker-catalog.js";
import { workerCommand } from "./worker-command.js";

const platform = hostPlatform();
/** A Node script as a release asset: valid as CommonJS and as an ES module. */
const SCRIPT = 'process.stdout.write("fake worker " + process.argv.slice(2).join(" ") + "\\n");\n';

let github: FakeGitHub;
let dir: string;
let provisioner: ArtifactProvisioner<WorkerArtifact>;

beforeAll(async () => {
  github = await startFakeGitHub();
  github.addRelease("rbee-dev", "rbee", "v0.2.0", [
    { name: `cpu-llm-worker-rbee-v0.2.0-${platform}.mjs`, content: SCRIPT },
    { name: `vulkan-llm-worker-rbee-v0.2.0-${platform}`, content: "#!/bin/sh\necho native fake worker \"$@\"\n" },
    { name: `cuda-llm-worker-rbee-v0.2.0-${platform}.js`, content: SCRIPT, digest: `sha256:${"0".repeat(64)}` },
    { name: `metal-llm-worker-rbee-v0.2.0-${platform}.mjs`, content: SCRIPT, digest: null },
    { name: "SHA256SUMS", content: "not a worker" },
  ]);
});

afterAll(async () => {
  await github?.close();
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-gh-worker-"));
  provisioner = createWorkerProvisioner({ cacheDir: dir, env: { RBEE_GITHUB_API_URL: github.url, GITHUB_TOKEN: "test-token" } });
  github.counters.releaseLookups = github.counters.downloadRedirects = github.counters.storageDownloads = 0;
  return () => rm(dir, { recursive: true, force: true });
});

function recorder(): ProvisionListener & { actions: string[]; messages: string[]; progressed: number[] } {
  const actions: string[] = [];
  const messages: string[] = [];
  const progressed: number[] = [];
  return {
    actions,
    messages,
    progressed,
    narrate: (action, message) => {
      actions.push(action);
      messages.push(message);
    },
    progress: (bytes) => progressed.push(bytes),
  };
}

const signal = () => AbortSignal.timeout(30_000);

describe("GitHub releases vendor", () => {
  it("installs a Node script asset through the download redirect, checked against GitHub's digest", async () => {
    const listener = recorder();
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "gh:rbee-dev/rbee@v0.2.0" }, signal(), listener);

    expect(entry.id).toBe(`cpu-llm-worker-rbee-v0.2.0-${platform}`);
    expect(entry.status).toEqual({ state: "available" });
    expect(entry.details).toMatchObject({ workerType: "cpu", version: "0.2.0", platform, vendor: "github-releases", entry: `${entry.id}.mjs`, runtime: "node" });
    expect(entry.details?.origin).toBe(`${github.url}/rbee-dev/rbee/releases/download/v0.2.0/${entry.id}.mjs`);
    expect(listener.actions).toEqual(["fetch", "resolve", "download", "verified"]);
    expect(listener.progressed.at(-1)).toBe(Buffer.byteLength(SCRIPT));
    expect(github.counters).toEqual({ releaseLookups: 1, downloadRedirects: 1, storageDownloads: 1 });
    expect(github.lastAuthorization).toBe("Bearer test-token");

    const worker = await resolveWorker(provisioner.catalog, "cpu");
    if (!worker) throw new Error("the installed worker is not resolvable");
    const { command, args } = workerCommand(provisioner.catalog, worker);
    const run = await execa(command, [...args, "--gpu", "cpu"]);
    expect(run.stdout).toBe("fake worker --gpu cpu");
  });

  it("installs an asset without an extension as a native executable", async () => {
    const entry = await installWorker(provisioner, { workerType: "vulkan", source: "gh:rbee-dev/rbee@v0.2.0" }, signal(), recorder());
    expect(entry.details).toMatchObject({ entry: entry.id, runtime: "native" });
    const file = path.join(provisioner.catalog.folderOf(entry.id), entry.id);
    expect((await stat(file)).mode & 0o777).toBe(0o755);
    const worker = await resolveWorker(provisioner.catalog, "vulkan");
    if (!worker) throw new Error("the installed worker is not resolvable");
    expect(workerCommand(provisioner.catalog, worker)).toEqual({ command: file, args: [] });
    if (platform !== "win32") expect((await execa(file, ["x"])).stdout).toBe("native fake worker x");
  });

  it("records the sha256 of an asset GitHub gives no digest for, and says it was not verified", async () => {
    const listener = recorder();
    const entry = await installWorker(provisioner, { workerType: "metal", source: "gh:rbee-dev/rbee@v0.2.0" }, signal(), listener);
    expect(entry.details?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(listener.actions).toEqual(["fetch", "resolve", "unverified", "download", "downloaded"]);
  });

  it("fails an asset whose sha256 differs from GitHub's digest, leaving no entry and no file", async () => {
    const id = `cuda-llm-worker-rbee-v0.2.0-${platform}`;
    await expect(installWorker(provisioner, { workerType: "cuda", source: "gh:rbee-dev/rbee@v0.2.0" }, signal(), recorder())).rejects.toMatchObject({
      code: "checksum_mismatch",
      message: expect.stringContaining(`but the source published ${"0".repeat(64)}`),
    });
    expect(await provisioner.catalog.get(id)).toBeUndefined();
    expect(await resolveWorker(provisioner.catalog, "cuda")).toBeUndefined();
    await expect(readdir(provisioner.catalog.folderOf(id))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("installs an asset named without the version, as releases made by hand often are", async () => {
    github.addRelease("rbee-dev", "rbee", "v0.5.0", [{ name: `cpu-llm-worker-rbee-${platform}.mjs`, content: SCRIPT }]);
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "GH:rbee-dev/rbee@v0.5.0" }, signal(), recorder());
    expect(entry).toMatchObject({ id: `cpu-llm-worker-rbee-v0.5.0-${platform}`, details: { version: "0.5.0", entry: `cpu-llm-worker-rbee-${platform}.mjs`, runtime: "node" } });
  });

  it("unpacks a release archive and links the hive's own node-llama-cpp beside its entry", async () => {
    const manifest = { name: "rbee-worker", version: "0.6.0", workerType: "cpu", platform, entry: "worker.mjs", nodeLlamaCpp: "0.0.1" };
    const archive = tarGz([{ name: "worker.mjs", bytes: Buffer.from(SCRIPT) }, { name: BUNDLE_MANIFEST_FILE, bytes: Buffer.from(JSON.stringify(manifest)) }], 0);
    github.addRelease("rbee-dev", "rbee", "v0.6.0", [{ name: `cpu-llm-worker-rbee-v0.6.0-${platform}.tar.gz`, content: archive }]);
    const listener = recorder();
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "https://github.com/rbee-dev/rbee/releases/tag/v0.6.0" }, signal(), listener);
    expect(entry.details).toMatchObject({ entry: "worker.mjs", runtime: "node" });
    expect(listener.actions).toEqual(["fetch", "resolve", "download", "verified", "unpacked", "linked"]);
    expect(listener.messages.at(-1)).toMatch(/^warning: built against node-llama-cpp 0\.0\.1, but this hive has /);
    const folder = provisioner.catalog.folderOf(entry.id);
    expect((await readdir(folder)).sort()).toEqual(["metadata.json", "node_modules", BUNDLE_MANIFEST_FILE, "worker.mjs"]);
    expect(await realpath(path.join(folder, "node_modules", "node-llama-cpp"))).toBe(await realpath((await hostNodeLlamaCpp()).folder));
  });

  it("links the hive's node-llama-cpp again when a release's link leads to another checkout's copy, or nowhere", async () => {
    const manifest = { name: "rbee-worker", version: "0.6.1", workerType: "cpu", platform, entry: "worker.mjs", nodeLlamaCpp: "0.0.1" };
    const archive = tarGz([{ name: "worker.mjs", bytes: Buffer.from(SCRIPT) }, { name: BUNDLE_MANIFEST_FILE, bytes: Buffer.from(JSON.stringify(manifest)) }], 0);
    github.addRelease("rbee-dev", "rbee", "v0.6.1", [{ name: `cpu-llm-worker-rbee-v0.6.1-${platform}.tar.gz`, content: archive }]);
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "gh:rbee-dev/rbee@v0.6.1" }, signal(), recorder());
    const link = path.join(provisioner.catalog.folderOf(entry.id), "node_modules", "node-llama-cpp");
    const host = await realpath((await hostNodeLlamaCpp()).folder);
    const installedLink = (await lstat(link)).ino;
    expect(await relinkHostNodeLlamaCpp(provisioner.catalog.folderOf(entry.id))).toBeUndefined();
    expect((await lstat(link)).ino).toBe(installedLink); // a right link is left as it is

    // Installed by another checkout's hive, whose copy is still there, then deleted with its clone.
    const otherCopy = path.join(dir, "other-clone", "node_modules", "node-llama-cpp");
    await mkdir(otherCopy, { recursive: true });
    for (const gone of [false, true]) {
      await rm(link);
      await symlink(otherCopy, link);
      if (gone) await rm(path.join(dir, "other-clone"), { recursive: true });
      expect((await relinkHostNodeLlamaCpp(provisioner.catalog.folderOf(entry.id)))?.folder).toBe((await hostNodeLlamaCpp()).folder);
      expect(await realpath(link)).toBe(host);
    }
    expect((await readdir(path.dirname(link))).sort()).toEqual(["node-llama-cpp"]); // nothing left aside

    // A release that is one script has no link to mend, and gets none.
    const script = await installWorker(provisioner, { workerType: "cpu", source: "gh:rbee-dev/rbee@v0.2.0" }, signal(), recorder());
    expect(await relinkHostNodeLlamaCpp(provisioner.catalog.folderOf(script.id))).toBeUndefined();
    expect(await readdir(provisioner.catalog.folderOf(script.id))).not.toContain("node_modules");
  });

  it("refuses an archive whose manifest is for another worker, leaving no entry", async () => {
    const manifest = { name: "rbee-worker", version: "0.7.0", workerType: "cuda", platform, entry: "worker.mjs", nodeLlamaCpp: "0.0.1" };
    const archive = tarGz([{ name: "worker.mjs", bytes: Buffer.from(SCRIPT) }, { name: BUNDLE_MANIFEST_FILE, bytes: Buffer.from(JSON.stringify(manifest)) }], 0);
    github.addRelease("rbee-dev", "rbee", "v0.7.0", [{ name: `cpu-llm-worker-rbee-v0.7.0-${platform}.tar.gz`, content: archive }]);
    await expect(installWorker(provisioner, { workerType: "cpu", source: "gh:rbee-dev/rbee@v0.7.0" }, signal(), recorder())).rejects.toMatchObject({
      code: "worker_archive_invalid",
      message: expect.stringContaining(`says it is a cuda worker v0.7.0 for ${platform}, but a cpu worker v0.7.0 for ${platform} was asked for (workerType differs)`),
    });
    expect(await provisioner.catalog.get(`cpu-llm-worker-rbee-v0.7.0-${platform}`)).toBeUndefined();
  });

  it("names the release when it does not exist", async () => {
    await expect(installWorker(provisioner, { workerType: "cpu", source: "gh:rbee-dev/rbee@v9.0.0" }, signal(), recorder())).rejects.toMatchObject({
      status: 404,
      code: "worker_release_not_found",
      message: expect.stringContaining("rbee-dev/rbee@v9.0.0"),
    });
  });

  it("lists the assets that exist when none is for this worker type and platform", async () => {
    github.addRelease("rbee-dev", "rbee", "v0.3.0", [{ name: "cpu-llm-worker-rbee-v0.3.0-plan9", content: "x" }, { name: "SHA256SUMS", content: "y" }]);
    const failure = installWorker(provisioner, { workerType: "cpu", source: "gh:rbee-dev/rbee@v0.3.0" }, signal(), recorder());
    await expect(failure).rejects.toMatchObject({ status: 404, code: "worker_asset_not_found" });
    await expect(failure).rejects.toThrow(`release rbee-dev/rbee@v0.3.0 has no asset named cpu-llm-worker-rbee-v0.3.0-${platform}`);
    await expect(failure).rejects.toThrow("it has cpu-llm-worker-rbee-v0.3.0-plan9, SHA256SUMS");
    expect(github.counters.storageDownloads).toBe(0);
  });

  it("downloads nothing the second time: the installed worker is narrated as cached", async () => {
    const first = await installWorker(provisioner, { workerType: "cpu", source: "gh:rbee-dev/rbee@v0.2.0" }, signal(), recorder());
    const listener = recorder();
    const second = await installWorker(provisioner, { workerType: "cpu", source: "gh:rbee-dev/rbee@v0.2.0" }, signal(), listener);
    expect(second).toEqual(first);
    expect(listener.actions).toEqual(["cached"]);
    expect(github.counters).toEqual({ releaseLookups: 1, downloadRedirects: 1, storageDownloads: 1 });
  });

  it("stops a download when cancelled, leaving nothing listed and no partial file", async () => {
    github.addRelease("rbee-dev", "rbee", "v0.4.0", [{ name: `cpu-llm-worker-rbee-v0.4.0-${platform}.mjs`, content: "x".repeat(64 * 1024), stall: true }]);
    const controller = new AbortController();
    const install = installWorker(provisioner, { workerType: "cpu", source: "gh:rbee-dev/rbee@v0.4.0" }, controller.signal, recorder());
    await vi.waitFor(() => expect(github.counters.storageDownloads).toBe(1));
    controller.abort(new Error("job cancelled"));
    await expect(install).rejects.toThrow("job cancelled");
    // The asker is released at once; the shared fetch then stops and removes its entry behind it.
    await vi.waitFor(async () => expect(await provisioner.catalog.list()).toEqual([]));
    await vi.waitFor(async () => expect(await readdir(path.join(dir, "workers"))).not.toContain(`cpu-llm-worker-rbee-v0.4.0-${platform}`));
  });
});
