import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTinyLlamaGguf, writeTinyLlamaGguf } from "../../../shared/gguf/tiny-llama.js";
import { sha256 } from "../../../test/support/fake-hub.js";
import { type ModelFixture, modelFixture, recordingListener } from "../../../test/support/model-fixture.js";
import { createModelProvisioner } from "./model-vendors.js";

const never = new AbortController().signal;
let fixture: ModelFixture;
let sourceDir: string;
let modelPath: string;
let id: string;

beforeEach(async () => {
  fixture = await modelFixture(null);
  sourceDir = await mkdtemp(path.join(tmpdir(), "rbee-local-model-"));
  modelPath = path.join(sourceDir, "tiny.gguf");
  await writeTinyLlamaGguf(modelPath);
  id = `file:${modelPath}`;
});

afterEach(async () => {
  await fixture.cleanup();
  await rm(sourceDir, { recursive: true, force: true });
});

describe("file vendor", () => {
  it("links to the local file by default, says so, and records its SHA-256", async () => {
    const listener = recordingListener();
    const entry = await fixture.models.provision({ id, source: id }, never, listener);
    expect(entry.details).toMatchObject({ vendor: "file", fileName: "tiny.gguf", origin: modelPath, linked: true, sha256: sha256(createTinyLlamaGguf()), gguf: { architecture: "llama" } });
    const inCatalog = path.join(fixture.models.catalog.folderOf(id), "tiny.gguf");
    expect((await lstat(inCatalog)).isSymbolicLink()).toBe(true);
    expect(await readlink(inCatalog)).toBe(modelPath);
    expect(listener.text()).toMatch(/link: linked the catalog entry to .*tiny.gguf instead of copying/);
  });

  it("copies the file when asked to, and says so", async () => {
    for (const models of [fixture.withOptions({ localFiles: "copy" }), fixture.withOptions({ env: { RBEE_LOCAL_MODELS: "copy" } })]) {
      const listener = recordingListener();
      const entry = await models.provision({ id, source: id }, never, listener);
      expect(entry.details).toMatchObject({ linked: false, sha256: sha256(createTinyLlamaGguf()) });
      const inCatalog = path.join(models.catalog.folderOf(id), "tiny.gguf");
      expect((await lstat(inCatalog)).isFile()).toBe(true);
      expect(listener.text()).toMatch(/copy: copying .* as this hive is set to \(RBEE_LOCAL_MODELS=copy\)/);
      expect(listener.reports.at(-1)).toMatchObject({ bytes: entry.sizeBytes, total: entry.sizeBytes });
      await models.catalog.remove(id);
    }
  });

  it("links a file: model afresh when its file changed on disk, and names the user's path when it is gone", async () => {
    await fixture.models.provision({ id, source: id }, never, recordingListener());
    // Replaced by a larger model of the same name: linked again, and its new facts read.
    await writeTinyLlamaGguf(modelPath, { embeddingLength: 128 });
    const listener = recordingListener();
    const entry = await fixture.models.provision({ id, source: id }, never, listener);
    expect(listener.text()).toContain(`fetching model '${id}' again: its file ${modelPath} has `);
    expect(entry.sizeBytes).toBe((await readFile(modelPath)).length);
    await rm(modelPath);
    await expect(fixture.models.provision({ id, source: id }, never, recordingListener())).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
      message: expect.stringContaining(`${modelPath} does not exist on this hive's machine`),
    });
  });

  it("answers a missing file with a 404 that names the path", async () => {
    const missing = `file:${path.join(sourceDir, "missing.gguf")}`;
    await expect(fixture.models.provision({ id: missing, source: missing }, never, recordingListener())).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
      message: expect.stringContaining(path.join(sourceDir, "missing.gguf")),
    });
    expect(await fixture.models.catalog.get(missing)).toBeUndefined(); // a first fetch that failed leaves no entry
    await expect(readdir(fixture.models.catalog.folderOf(missing))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("leaves no entry, linked or copied, for a file that is not a GGUF", async () => {
    const garbagePath = path.join(sourceDir, "garbage.gguf");
    await writeFile(garbagePath, "garbage\n");
    const garbage = `file:${garbagePath}`;
    for (const models of [fixture.models, fixture.withOptions({ localFiles: "copy" })]) {
      await expect(models.provision({ id: garbage, source: garbage }, never, recordingListener())).rejects.toMatchObject({ status: 422, code: "invalid_gguf" });
      expect(await models.catalog.list()).toEqual([]);
      await expect(readdir(models.catalog.folderOf(garbage))).rejects.toMatchObject({ code: "ENOENT" });
    }
    expect(await readFile(garbagePath, "utf8")).toBe("garbage\n"); // a link's removal leaves the file it named
  });

  it("refuses an unknown RBEE_LOCAL_MODELS", () => {
    expect(() => createModelProvisioner({ cacheDir: fixture.cacheDir, env: { RBEE_LOCAL_MODELS: "move" } })).toThrow(/RBEE_LOCAL_MODELS is 'move'/);
  });
});
