// The local-build vendor for real: this repository's worker bundled into a temporary catalog,
// then started from there (a folder with no node_modules) on the tiny model and asked for a chat.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyLlamaGguf } from "../../../shared/gguf/tiny-llama.js";
import { findFreeLoopbackPort } from "../../../shared/free-port.js";
import { waitForReadyLine } from "../../../shared/protocol/listening-line.js";
import { workerLaunchArgs } from "../../../shared/protocol/worker-launch.js";
import { workerSecretEnv } from "../../../test/support/running-worker.js";
import type { ProvisionListener } from "../../catalog/artifact-provisioner.js";
import { workerArtifactId } from "../../catalog/worker/worker-artifact.js";
import { isStaleLocalBuild, localWorkerVersion } from "./local-build-vendor.js";
import { resolveWorker } from "./resolve-worker.js";
import { createWorkerProvisioner, installWorker } from "./worker-catalog.js";
import { workerCommand } from "./worker-command.js";

let dir: string;
let modelPath: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-local-worker-"));
  modelPath = path.join(dir, "tiny.gguf");
  await writeTinyLlamaGguf(modelPath);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function recorder(): ProvisionListener & { actions: string[] } {
  const actions: string[] = [];
  return { actions, narrate: (action) => actions.push(action), progress: () => {} };
}

describe("local-build vendor", () => {
  it("rebuilds a local build whose sources changed since, and keeps a current one", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-stale"), env: {} });
    const first = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(60_000), recorder());
    expect(first.details?.sourceFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(await isStaleLocalBuild(first)).toBe(false);

    const current = recorder();
    await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(60_000), current);
    expect(current.actions).toEqual(["cached"]);

    // As if the build were from before a `git pull`: the recorded fingerprint no longer matches.
    if (!first.details) throw new Error("no details");
    await provisioner.catalog.add({ ...first, details: { ...first.details, sourceFingerprint: "0".repeat(64) } });
    const stale = await provisioner.catalog.get(first.id);
    if (!stale) throw new Error("entry vanished");
    expect(await isStaleLocalBuild(stale)).toBe(true);
    const rebuilt = recorder();
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(60_000), rebuilt);
    expect(rebuilt.actions).toEqual(["replace", "fetch", "build", "built"]);
    expect(entry.details?.sourceFingerprint).toBe(first.details.sourceFingerprint);
  });

  it("builds this repository's worker into the catalog, and the build serves a chat from there", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-run"), env: {} });
    const listener = recorder();
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(60_000), listener);

    const version = await localWorkerVersion();
    expect(entry.id).toBe(workerArtifactId("cpu", version, process.platform));
    expect(entry.details).toMatchObject({ workerType: "cpu", version, platform: process.platform, vendor: "local-build", entry: "worker.mjs", runtime: "node" });
    expect(listener.actions).toEqual(["fetch", "build", "built"]);
    const folder = provisioner.catalog.folderOf(entry.id);
    expect(await readdir(folder)).not.toContain("node_modules");

    const worker = await resolveWorker(provisioner.catalog, "cpu");
    if (!worker) throw new Error("the built worker is not resolvable");
    const { command, args } = workerCommand(provisioner.catalog, worker);
    expect(command).toBe(process.execPath);
    expect(args).toEqual([path.join(folder, "worker.mjs")]);

    const port = await findFreeLoopbackPort();
    const unusedHivePort = await findFreeLoopbackPort();
    const flags = workerLaunchArgs({
      modelPath,
      modelName: "tiny",
      workerId: "wrk_test1",
      port,
      hiveChannel: `http://127.0.0.1:${unusedHivePort}`,
      threads: 1,
      gpu: "cpu",
    });
    const { env, authorization } = workerSecretEnv();
    const child = execa(command, [...args, ...flags], {
      cwd: dir, // nowhere near this repository's node_modules
      env,
      reject: false,
    });
    try {
      const listening = await Promise.race([
        waitForReadyLine(child.stdout),
        child.then((result) => {
          throw new Error(`the bundled worker exited with ${result.exitCode} before listening: ${result.stderr}`);
        }),
      ]);
      expect(listening).toBe(port);
      const health = await fetch(`http://127.0.0.1:${port}/health`, { headers: { authorization } });
      expect(await health.json()).toMatchObject({ status: "ready", model: "tiny", workerId: "wrk_test1" });
      const chat = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization },
        body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 4, temperature: 0 }),
      });
      expect(chat.status).toBe(200);
      expect(await chat.json()).toMatchObject({ object: "chat.completion", model: "tiny" });
    } finally {
      child.kill("SIGKILL");
      await child;
    }
  });

  it("installs a second time as a no-op, narrated as cached", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-twice"), env: {} });
    const first = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(60_000), recorder());
    const entryFile = path.join(provisioner.catalog.folderOf(first.id), "worker.mjs");
    const builtAt = (await stat(entryFile)).mtimeMs;

    const listener = recorder();
    const second = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(60_000), listener);
    expect(second).toEqual(first);
    expect(listener.actions).toEqual(["cached"]);
    expect((await stat(entryFile)).mtimeMs).toBe(builtAt);
  });

  it("builds a cuda worker as the same bundle under its own id, for the hive to start with --gpu cuda", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-cuda"), env: {} });
    const entry = await installWorker(provisioner, { workerType: "cuda", source: "local" }, AbortSignal.timeout(60_000), recorder());
    expect(entry.id).toBe(workerArtifactId("cuda", await localWorkerVersion(), process.platform));
    expect(entry.details?.workerType).toBe("cuda");
    expect(await resolveWorker(provisioner.catalog, "cuda")).toMatchObject({ id: entry.id });
    expect(await resolveWorker(provisioner.catalog, "cpu")).toBeUndefined();
  });

  it("refuses a local build of another version, and records why", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-other"), env: {} });
    const id = workerArtifactId("cpu", "9.9.9", process.platform);
    await expect(provisioner.provision({ id, source: "local" }, AbortSignal.timeout(60_000), recorder())).rejects.toMatchObject({
      code: "worker_version_mismatch",
    });
    expect(await provisioner.catalog.contains(id)).toBe(false);
  });
});
