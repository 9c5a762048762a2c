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
import { asIfBuiltByGoneCheckout, bundledText, nodeLlamaCppUrl } from "../../../test/support/gone-checkout-build.js";
import { workerSecretEnv } from "../../../test/support/running-worker.js";
import type { ProvisionListener } from "../../catalog/artifact-provisioner.js";
import { workerArtifactId } from "../../catalog/worker/worker-artifact.js";
import { hostPlatform } from "../../catalog/worker/worker-platform.js";
import { probeLlama } from "./llama-build/llama-probe.js";
import { localBuildStaleness, localWorkerVersion, REPO_ROOT } from "./local-build-vendor.js";
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

// Each install without `rebuild` first asks, in a child process, whether node-llama-cpp's prebuilt binary loads: seconds each on a busy machine.
describe("local-build vendor", { timeout: 180_000 }, () => {
  it("rebuilds a local build whose sources changed since, and keeps a current one", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-stale"), env: {} });
    const first = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(180_000), recorder());
    expect(first.details?.sourceFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(await localBuildStaleness(first)).toBeUndefined();

    const current = recorder();
    await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(180_000), current);
    expect(current.actions).toEqual(["cached"]);

    // As if the build were from before a `git pull`: the recorded fingerprint no longer matches.
    if (!first.details) throw new Error("no details");
    await provisioner.catalog.add({ ...first, details: { ...first.details, sourceFingerprint: "0".repeat(64) } });
    const stale = await provisioner.catalog.get(first.id);
    if (!stale) throw new Error("entry vanished");
    expect(await localBuildStaleness(stale)).toBe("this repository's worker sources changed since it was built");
    const rebuilt = recorder();
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(180_000), rebuilt);
    expect(rebuilt.actions).toEqual(["replace", "fetch", "prebuilt", "prebuilt", "build", "built"]);
    expect(entry.details?.sourceFingerprint).toBe(first.details.sourceFingerprint);
  });

  it("rebuilds a build made by another checkout of rbee, whose node-llama-cpp it would load", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-moved"), env: {} });
    const first = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(180_000), recorder());
    const folder = provisioner.catalog.folderOf(first.id);
    expect(await bundledText(folder)).toContain(nodeLlamaCppUrl());

    const goneClone = path.join(dir, "deleted-clone");
    await asIfBuiltByGoneCheckout(folder, goneClone);
    const moved = await provisioner.catalog.get(first.id);
    if (!moved) throw new Error("entry vanished");
    expect(await localBuildStaleness(moved)).toBe(
      `it was built from another checkout of rbee (${path.join(goneClone, "worker", "main.ts")}, not ${path.join(REPO_ROOT, "worker", "main.ts")}), whose node-llama-cpp it loads`,
    );

    const rebuilt = recorder();
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(180_000), rebuilt);
    expect(rebuilt.actions).toEqual(["replace", "fetch", "prebuilt", "prebuilt", "build", "built"]);
    expect(entry.details?.origin).toBe(path.join(REPO_ROOT, "worker", "main.ts"));
    const text = await bundledText(folder);
    expect(text).toContain(nodeLlamaCppUrl());
    expect(text).not.toContain(nodeLlamaCppUrl(goneClone));
    expect(await localBuildStaleness(entry)).toBeUndefined();
  });

  it("builds this repository's worker into the catalog, and the build serves a chat from there", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-run"), env: {} });
    const listener = recorder();
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(180_000), listener);

    const version = await localWorkerVersion();
    expect(entry.id).toBe(workerArtifactId("cpu", version, hostPlatform()));
    expect(entry.details).toMatchObject({ workerType: "cpu", version, platform: hostPlatform(), vendor: "local-build", entry: "worker.mjs", runtime: "node" });
    // node-llama-cpp's prebuilt CPU binary loads here, so nothing is compiled.
    expect(entry.details?.llamaBuild).toEqual({ kind: "prebuilt", backend: "cpu", nodeLlamaCpp: "3.21.1" });
    expect(listener.actions).toEqual(["fetch", "prebuilt", "prebuilt", "build", "built"]);
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
    const first = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(180_000), recorder());
    const entryFile = path.join(provisioner.catalog.folderOf(first.id), "worker.mjs");
    const builtAt = (await stat(entryFile)).mtimeMs;

    const listener = recorder();
    const second = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(180_000), listener);
    expect(second).toEqual(first);
    expect(listener.actions).toEqual(["cached"]);
    expect((await stat(entryFile)).mtimeMs).toBe(builtAt);
  });

  it("compiles only when no prebuilt binary loads, and names the missing build tools before writing anything", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-cuda"), env: {} }); // no PATH: no build tools
    const prebuiltCuda = await probeLlama("cuda", undefined, AbortSignal.timeout(180_000));
    const listener = recorder();
    const installing = installWorker(provisioner, { workerType: "cuda", source: "local" }, AbortSignal.timeout(180_000), listener);
    const id = workerArtifactId("cuda", await localWorkerVersion(), hostPlatform());
    if (prebuiltCuda.works) {
      // A machine with an NVIDIA GPU and a driver the prebuilt binary matches: nothing to compile.
      expect((await installing).details?.llamaBuild).toMatchObject({ kind: "prebuilt", backend: "cuda" });
      return;
    }
    await expect(installing).rejects.toMatchObject({ code: "build_tools_missing", message: expect.stringContaining("cannot compile llama.cpp for cuda on this machine; missing: cmake") });
    expect(listener.actions).toEqual(["fetch", "prebuilt", "prebuilt"]);
    expect(await provisioner.catalog.contains(id)).toBe(false);
    expect(await readdir(path.join(dir, "cache-cuda", "workers"))).not.toContain(id); // no half entry folder either
  });

  it("skips the prebuilt check when asked to rebuild, and compiles (here failing for the missing tools, leaving nothing)", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-rebuild"), env: {} });
    const listener = recorder();
    const installing = installWorker(provisioner, { workerType: "cpu", source: "local", rebuild: true }, AbortSignal.timeout(180_000), listener);
    await expect(installing).rejects.toMatchObject({ code: "build_tools_missing" });
    expect(listener.actions).toEqual(["fetch", "rebuild"]);
    expect(await provisioner.catalog.contains(workerArtifactId("cpu", await localWorkerVersion(), hostPlatform()))).toBe(false);
  });

  it("starts a worker whose entry holds a compiled llama.cpp with that build", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-compiled"), env: {} });
    const entry = await installWorker(provisioner, { workerType: "cpu", source: "local" }, AbortSignal.timeout(180_000), recorder());
    if (!entry.details) throw new Error("no details");
    const compiled = { kind: "compiled", backend: "cpu", folder: "llama", llamaCpp: { nodeLlamaCpp: "3.21.1", release: "b1", commit: "0".repeat(40) }, toolchain: { compiler: "/usr/bin/c++", compilerVersion: "12.2.0", cmakeVersion: "3.25.1", generator: "ninja" }, fingerprint: "f".repeat(64), builtAt: new Date().toISOString(), buildSeconds: 1 } as const;
    await provisioner.catalog.add({ ...entry, details: { ...entry.details, llamaBuild: compiled } });
    const worker = await resolveWorker(provisioner.catalog, "cpu");
    if (!worker) throw new Error("not resolvable");
    const folder = provisioner.catalog.folderOf(entry.id);
    expect(workerCommand(provisioner.catalog, worker).args).toEqual([path.join(folder, "worker.mjs"), "--llama-build", path.join(folder, "llama")]);
  });

  it("refuses a local build of another version, and records why", async () => {
    const provisioner = createWorkerProvisioner({ cacheDir: path.join(dir, "cache-other"), env: {} });
    const id = workerArtifactId("cpu", "9.9.9", hostPlatform());
    await expect(provisioner.provision({ id, source: "local" }, AbortSignal.timeout(180_000), recorder())).rejects.toMatchObject({
      code: "worker_version_mismatch",
    });
    expect(await provisioner.catalog.contains(id)).toBe(false);
  });
});
