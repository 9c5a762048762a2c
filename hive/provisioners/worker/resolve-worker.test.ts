// Which installed worker the hive starts: the newest available version of the asked type for this
// platform, never one still downloading or failed; and the command that starts it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FilesystemCatalog } from "../../catalog/filesystem-catalog.js";
import { WorkerArtifact, workerArtifactId, type WorkerDetails, type WorkerType } from "../../catalog/worker/worker-artifact.js";
import { compareVersions } from "./compare-versions.js";
import { resolveWorker } from "./resolve-worker.js";
import { workerCommand } from "./worker-command.js";

let dir: string;
let catalog: FilesystemCatalog<WorkerArtifact>;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-resolve-worker-"));
  catalog = new FilesystemCatalog(path.join(dir, "workers"), WorkerArtifact, "worker");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Install {
  workerType?: WorkerType;
  version: string;
  platform?: string;
  state?: WorkerArtifact["status"]["state"];
  runtime?: WorkerDetails["runtime"];
}

async function install({ workerType = "cpu", version, platform = process.platform, state = "available", runtime = "node" }: Install): Promise<string> {
  const id = workerArtifactId(workerType, version, platform);
  const status = state === "available" ? { state } : state === "failed" ? { state, reason: "checksum_mismatch" } : { state, pid: process.pid };
  const entry = runtime === "node" ? `${id}.mjs` : id;
  await catalog.add({
    id,
    status,
    sizeBytes: 10,
    addedAt: new Date().toISOString(),
    details: { workerType, version, platform, vendor: "github-releases", origin: "https://example.invalid", entry, runtime, sha256: null },
  });
  return id;
}

describe("resolveWorker", () => {
  it("picks the newest available version of the type, by semver rather than by text", async () => {
    await install({ version: "0.2.0" });
    await install({ version: "0.10.0" });
    await install({ version: "0.11.0-rc.1" });
    await install({ version: "0.9.9" });
    expect((await resolveWorker(catalog, "cpu"))?.details.version).toBe("0.11.0-rc.1");
  });

  it("passes over entries that are downloading or failed, of another type or for another platform", async () => {
    await install({ version: "0.1.0" });
    await install({ version: "0.5.0", state: "downloading" });
    await install({ version: "0.6.0", state: "failed" });
    await install({ version: "0.7.0", workerType: "cuda" });
    await install({ version: "0.8.0", platform: "plan9" });
    // A first fetch that never finished: no details yet.
    await catalog.add({ id: workerArtifactId("cpu", "0.9.0", process.platform), status: { state: "available" }, sizeBytes: null, addedAt: "", details: null });
    expect((await resolveWorker(catalog, "cpu"))?.details.version).toBe("0.1.0");
    expect((await resolveWorker(catalog, "cuda"))?.details.version).toBe("0.7.0");
    expect(await resolveWorker(catalog, "vulkan")).toBeUndefined();
  });
});

describe("resolveWorker across platform spellings", () => {
  it("finds a worker installed under the old -darwin or -win32 id for macos or windows", async () => {
    const darwin = await install({ version: "0.1.0", platform: "darwin" });
    const win32 = await install({ version: "0.1.0", platform: "win32", workerType: "cuda" });
    expect((await resolveWorker(catalog, "cpu", "macos"))?.id).toBe(darwin);
    expect((await resolveWorker(catalog, "cpu", "darwin"))?.id).toBe(darwin);
    expect((await resolveWorker(catalog, "cuda", "windows"))?.id).toBe(win32);
    expect(await resolveWorker(catalog, "cpu", "linux")).toBeUndefined();
  });
});

describe("workerCommand", () => {
  it("runs a Node worker under the hive's own node, and a native one directly", async () => {
    const nodeId = await install({ version: "0.1.0", runtime: "node" });
    const nativeId = await install({ version: "0.1.0", workerType: "vulkan", runtime: "native" });
    const nodeWorker = await resolveWorker(catalog, "cpu");
    const nativeWorker = await resolveWorker(catalog, "vulkan");
    if (!nodeWorker || !nativeWorker) throw new Error("both installs must resolve");
    expect(workerCommand(catalog, nodeWorker)).toEqual({ command: process.execPath, args: [path.join(catalog.folderOf(nodeId), `${nodeId}.mjs`)] });
    expect(workerCommand(catalog, nativeWorker)).toEqual({ command: path.join(catalog.folderOf(nativeId), nativeId), args: [] });
  });

  it("refuses an entry file that would leave the entry's folder (tampered metadata)", async () => {
    await install({ version: "0.1.0" });
    const worker = await resolveWorker(catalog, "cpu");
    if (!worker) throw new Error("the install must resolve");
    expect(() => workerCommand(catalog, { ...worker, details: { ...worker.details, entry: "../../../bin/sh" } })).toThrowError(
      expect.objectContaining({ code: "invalid_artifact_id" }),
    );
  });
});

describe("compareVersions", () => {
  it.each([
    ["0.10.0", "0.9.0", 1],
    ["1.0.0", "1.0.0-rc.1", 1],
    ["1.0.0-rc.2", "1.0.0-rc.10", -1],
    ["1.0.0-alpha", "1.0.0-alpha.1", -1],
    ["1.0.0-1", "1.0.0-alpha", -1],
    ["1.0.0+build.5", "1.0.0", 0],
    ["v2.0.0", "1.99.99", 1],
  ])("orders %s against %s as %i", (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(-expected || 0);
  });
});
