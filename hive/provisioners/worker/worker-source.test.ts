// Worker sources come from users through the queen: the good forms parse, and hostile ones are
// refused before anything is looked up, fetched or written.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../../../test/support/fake-github.js";
import { createWorkerProvisioner, installWorker } from "./worker-catalog.js";
import { formatWorkerSource, parseWorkerSource } from "./worker-source.js";
import { hostPlatform } from "../../catalog/worker/worker-platform.js";

const HOSTILE = [
  "gh:../x@v1",
  "gh:../x@v0.1.0",
  "gh:o/r@../../x",
  "gh:o/r@v0.1.0/../../x",
  "gh:o/r@v0.1.0/x",
  "gh:o/..@v0.1.0",
  "gh:o/.@v0.1.0",
  "gh:o/r/x@v0.1.0",
  "gh:o/r@v0.1.0\nforged log line",
  "gh:o/r@%2e%2e",
  "gh:o/r@v0.1.0?x=1",
  "gh:-o/r@v0.1.0",
  "gh:o/r@",
  "gh:o/r",
  "gh:/etc/passwd@v0.1.0",
  "local/../x",
  "file:///etc/passwd",
  "https://example.com/worker",
  "GH:../x@v0.1.0",
  "https://github.com/o/r/releases/download/v0.1.0/../../x",
  "https://github.com/o/%2e%2e/releases/tag/v0.1.0",
  "https://github.com/../r/releases/tag/v0.1.0",
  "https://github.com/o/r/releases/tag/..",
  "http://github.com/o/r/releases/tag/v0.1.0",
  "https://github.com.evil.example/o/r/releases/tag/v0.1.0",
  "https://user@github.com/o/r/releases/tag/v0.1.0",
  "https://github.com/o/r/releases/tag/v0.1.0?x=1",
  "cpu-llm-worker-rbee-v0.1.0-../x",
];

const DEFAULT_REPO = { releaseRepo: "rbee-dev/rbee" };

describe("parsing worker sources", () => {
  it("reads local and gh:owner/repo@tag, with the version from the tag", () => {
    expect(parseWorkerSource("local")).toEqual({ kind: "local" });
    expect(parseWorkerSource("gh:rbee-dev/rbee@v0.2.0")).toEqual({ kind: "github", owner: "rbee-dev", repo: "rbee", tag: "v0.2.0", version: "0.2.0" });
    expect(parseWorkerSource("gh:o/my.repo_x@1.2.3-rc.1")).toMatchObject({ repo: "my.repo_x", tag: "1.2.3-rc.1", version: "1.2.3-rc.1" });
    expect(parseWorkerSource("gh:org/.github@v1.0.0")).toMatchObject({ repo: ".github" });
    expect(formatWorkerSource(parseWorkerSource("gh:rbee-dev/rbee@v0.2.0"))).toBe("gh:rbee-dev/rbee@v0.2.0");
  });

  it("reads GH: like gh:, and keeps the catalog's one spelling", () => {
    expect(formatWorkerSource(parseWorkerSource("GH:rbee-dev/rbee@v0.2.0"))).toBe("gh:rbee-dev/rbee@v0.2.0");
  });

  it("reads GitHub release URLs: the release page, and an asset's download link with the worker it is", () => {
    const release = { kind: "github", owner: "rbee-dev", repo: "rbee", tag: "v0.2.0", version: "0.2.0" };
    expect(parseWorkerSource("https://github.com/rbee-dev/rbee/releases/tag/v0.2.0")).toEqual(release);
    expect(parseWorkerSource("https://www.github.com/rbee-dev/rbee/releases/tag/v0.2.0#notes")).toEqual(release);
    expect(parseWorkerSource("https://github.com/rbee-dev/rbee/releases/download/v0.2.0/cuda-llm-worker-rbee-v0.2.0-linux.tar.gz")).toEqual({ ...release, workerType: "cuda", platform: "linux" });
    expect(parseWorkerSource("https://github.com/rbee-dev/rbee/releases/download/v0.2.0/metal-llm-worker-rbee-darwin")).toEqual({ ...release, workerType: "metal", platform: "macos" });
  });

  it("reads a bare worker id or tag as a release of the default repository", () => {
    const release = { kind: "github", owner: "rbee-dev", repo: "rbee", tag: "v0.2.0", version: "0.2.0" };
    expect(parseWorkerSource("cuda-llm-worker-rbee-v0.2.0-windows", DEFAULT_REPO)).toEqual({ ...release, workerType: "cuda", platform: "windows" });
    expect(parseWorkerSource("cpu-llm-worker-rbee-v0.2.0-win32", DEFAULT_REPO)).toEqual({ ...release, workerType: "cpu", platform: "windows" });
    expect(parseWorkerSource("v0.2.0", DEFAULT_REPO)).toEqual(release);
    expect(parseWorkerSource("0.2.0", DEFAULT_REPO)).toEqual({ ...release, tag: "0.2.0" });
  });

  it("refuses a bare worker id when the hive has no default release repository, naming the setting", () => {
    expect(() => parseWorkerSource("cpu-llm-worker-rbee-v0.2.0-linux")).toThrowError(
      expect.objectContaining({
        status: 400,
        code: "worker_release_repo_unset",
        message: expect.stringContaining("set --worker-release-repo (env RBEE_WORKER_RELEASE_REPO, key workerReleaseRepo) on the hive, or name one: gh:owner/repo@v0.2.0"),
      }),
    );
  });

  it.each([
    ["https://github.com/o/r/releases/latest", "a worker needs a tagged release (not 'latest')"],
    ["https://gitlab.com/o/r/releases/tag/v0.1.0", "a URL source must be a release on https://github.com"],
    ["https://github.com/o/r/releases/download/v0.2.0/cpu-llm-worker-rbee-v0.3.0-linux.tar.gz", 'asset "cpu-llm-worker-rbee-v0.3.0-linux.tar.gz" is version 0.3.0, but the release tag "v0.2.0" is 0.2.0'],
    ["https://github.com/o/r/releases/download/v0.2.0/SHA256SUMS", 'asset "SHA256SUMS" is not named like a worker'],
    ["cpu-llm-worker-rbee-0.2.0-linux", "a worker id is <type>-llm-worker-rbee-v<version>-<platform>"],
    ["worker", "is not valid: use 'local' (build this repository's worker), 'gh:owner/repo@tag'"],
  ])("refuses %j, saying %j", (source, why) => {
    expect(() => parseWorkerSource(source, DEFAULT_REPO)).toThrowError(expect.objectContaining({ status: 400, code: "invalid_worker_source", message: expect.stringContaining(why) }));
  });

  it("names a default release repository that is not owner/repo", () => {
    expect(() => parseWorkerSource("v0.2.0", { releaseRepo: "../x" })).toThrow('owner ".." is not a GitHub user or organisation name');
    expect(() => parseWorkerSource("v0.2.0", { releaseRepo: "o/.." })).toThrow('repo ".." is not a GitHub repository name');
  });

  it.each(HOSTILE)("refuses %j", (source) => {
    expect(() => parseWorkerSource(source, DEFAULT_REPO)).toThrowError(expect.objectContaining({ status: 400, code: "invalid_worker_source" }));
  });

  it("says what a tag must look like", () => {
    expect(() => parseWorkerSource("gh:o/r@latest")).toThrow('tag "latest" is not a version tag; worker releases are tagged like v0.1.0');
  });

  it("quotes a hostile source with its control characters escaped", () => {
    expect(() => parseWorkerSource("gh:o/r@v1\nforged")).toThrow('"gh:o/r@v1\\nforged"');
  });
});

describe("installing from hostile sources", () => {
  let github: FakeGitHub;
  let dir: string;

  beforeAll(async () => {
    github = await startFakeGitHub();
    dir = await mkdtemp(path.join(tmpdir(), "rbee-hostile-worker-"));
  });

  afterAll(async () => {
    await github?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses each one before anything is looked up or written", async () => {
    const cacheDir = path.join(dir, "cache");
    const provisioner = createWorkerProvisioner({ cacheDir, githubApiUrl: github.url, env: {} });
    for (const source of HOSTILE) {
      await expect(installWorker(provisioner, { workerType: "cpu", source }, AbortSignal.timeout(10_000), { narrate: () => {}, progress: () => {} }), source).rejects.toMatchObject({
        status: 400,
      });
    }
    expect((await readdir(dir)).filter((name) => name !== "cache-mismatch")).toEqual([]);
    expect(github.counters.releaseLookups).toBe(0);
  });

  it("refuses a source whose worker type or platform is not the one asked for, naming both", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-mismatch"), githubApiUrl: github.url, env: {} });
    const listener = { narrate: () => {}, progress: () => {} };
    const other = hostPlatform() === "linux" ? "windows" : "linux";
    await expect(installWorker(provisioner, { workerType: "cpu", source: `cuda-llm-worker-rbee-v0.2.0-${hostPlatform()}`, defaultReleaseRepo: "o/r" }, AbortSignal.timeout(10_000), listener)).rejects.toMatchObject({
      code: "worker_type_mismatch",
      message: expect.stringContaining("is a cuda worker, but worker type cpu was asked for"),
    });
    await expect(installWorker(provisioner, { workerType: "cpu", source: `https://github.com/o/r/releases/download/v0.2.0/cpu-llm-worker-rbee-${other}.tar.gz` }, AbortSignal.timeout(10_000), listener)).rejects.toMatchObject({
      code: "worker_platform_mismatch",
      message: expect.stringContaining(`is for ${other}, but this hive runs on ${hostPlatform()}`),
    });
    expect(github.counters.releaseLookups).toBe(0);
  });

  it("refuses them through the provisioner too, leaving nothing in the catalog", async () => {
    const cacheDir = path.join(dir, "cache-direct");
    const provisioner = createWorkerProvisioner({ cacheDir, githubApiUrl: github.url, env: {} });
    const id = `cpu-llm-worker-rbee-v0.1.0-${process.platform}`;
    for (const source of HOSTILE.filter((each) => each.toLowerCase().startsWith("gh:"))) {
      await expect(provisioner.provision({ id, source }, AbortSignal.timeout(10_000), { narrate: () => {}, progress: () => {} }), source).rejects.toMatchObject({
        status: 400,
      });
    }
    expect((await readdir(dir)).filter((name) => name !== "cache-mismatch")).toEqual(["cache-direct"]);
    expect((await readdir(path.join(cacheDir, "workers"))).filter((name) => !name.startsWith("."))).toEqual([]);
    expect(github.counters.releaseLookups).toBe(0);
  });
});
