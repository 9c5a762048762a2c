// Worker sources come from users through the queen: the good forms parse, and hostile ones are
// refused before anything is looked up, fetched or written.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../../../test/support/fake-github.js";
import { createWorkerProvisioner, installWorker } from "./worker-catalog.js";
import { formatWorkerSource, parseWorkerSource } from "./worker-source.js";

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
];

describe("parsing worker sources", () => {
  it("reads local and gh:owner/repo@tag, with the version from the tag", () => {
    expect(parseWorkerSource("local")).toEqual({ kind: "local" });
    expect(parseWorkerSource("gh:rbee-dev/rbee@v0.2.0")).toEqual({ kind: "github", owner: "rbee-dev", repo: "rbee", tag: "v0.2.0", version: "0.2.0" });
    expect(parseWorkerSource("gh:o/my.repo_x@1.2.3-rc.1")).toMatchObject({ repo: "my.repo_x", tag: "1.2.3-rc.1", version: "1.2.3-rc.1" });
    expect(parseWorkerSource("gh:org/.github@v1.0.0")).toMatchObject({ repo: ".github" });
    expect(formatWorkerSource(parseWorkerSource("gh:rbee-dev/rbee@v0.2.0"))).toBe("gh:rbee-dev/rbee@v0.2.0");
  });

  it.each(HOSTILE)("refuses %j", (source) => {
    expect(() => parseWorkerSource(source)).toThrowError(expect.objectContaining({ status: 400, code: "invalid_worker_source" }));
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
    expect(await readdir(dir)).toEqual([]);
    expect(github.counters.releaseLookups).toBe(0);
  });

  it("refuses them through the provisioner too, leaving nothing in the catalog", async () => {
    const cacheDir = path.join(dir, "cache-direct");
    const provisioner = createWorkerProvisioner({ cacheDir, githubApiUrl: github.url, env: {} });
    const id = `cpu-llm-worker-rbee-v0.1.0-${process.platform}`;
    for (const source of HOSTILE.filter((each) => each.startsWith("gh:"))) {
      await expect(provisioner.provision({ id, source }, AbortSignal.timeout(10_000), { narrate: () => {}, progress: () => {} }), source).rejects.toMatchObject({
        status: 400,
      });
    }
    expect(await readdir(dir)).toEqual(["cache-direct"]);
    expect((await readdir(path.join(cacheDir, "workers"))).filter((name) => !name.startsWith("."))).toEqual([]);
    expect(github.counters.releaseLookups).toBe(0);
  });
});
