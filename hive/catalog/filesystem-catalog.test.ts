// FilesystemCatalog on a real temp folder: entries round-trip through metadata.json, broken
// metadata is skipped and logged, writes are atomic, and removal takes entries out of the listing.
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { RbeeError } from "../../shared/errors.js";
import { ArtifactFields, type ArtifactStatus } from "./artifact.js";
import { FilesystemCatalog } from "./filesystem-catalog.js";

const Thing = ArtifactFields.extend({ details: z.object({ note: z.string() }).nullable() });
type Thing = z.infer<typeof Thing>;

function thing(id: string, status: ArtifactStatus = { state: "available" }, note = "hello"): Thing {
  return { id, status, sizeBytes: note.length, addedAt: "2025-01-01T00:00:00.000Z", details: { note } };
}

let root = "";
let logged: string[] = [];
let catalog: FilesystemCatalog<Thing>;

beforeEach(async () => {
  root = path.join(await mkdtemp(path.join(tmpdir(), "rbee-catalog-")), "things");
  logged = [];
  catalog = new FilesystemCatalog(root, Thing, "thing", (line) => logged.push(line));
});

afterEach(async () => {
  await rm(path.dirname(root), { recursive: true, force: true });
});

async function writeRaw(folderName: string, metadata: string): Promise<void> {
  await mkdir(path.join(root, folderName), { recursive: true });
  await writeFile(path.join(root, folderName, "metadata.json"), metadata);
}

describe("FilesystemCatalog entries", () => {
  it("gives back what it stored, by id, and forgets it once removed", async () => {
    const entry = thing("hf:org/repo:model.gguf");
    await catalog.add(entry);
    expect(await catalog.get(entry.id)).toEqual(entry);
    expect(await catalog.contains(entry.id)).toBe(true);
    expect(await catalog.list()).toEqual([entry]);
    expect(await catalog.remove(entry.id)).toBe(true);
    expect(await catalog.get(entry.id)).toBeUndefined();
    expect(await catalog.contains(entry.id)).toBe(false);
    expect(await catalog.list()).toEqual([]);
  });

  it("replaces an entry added again under the same id", async () => {
    await catalog.add(thing("a", { state: "downloading", pid: 123 }));
    await catalog.add(thing("a", { state: "failed", reason: "disk full" }, "second"));
    expect(await catalog.get("a")).toEqual(thing("a", { state: "failed", reason: "disk full" }, "second"));
    expect(await catalog.list()).toHaveLength(1);
  });

  it("counts only available entries as contained", async () => {
    await catalog.add(thing("downloading", { state: "downloading", pid: 42 }));
    await catalog.add(thing("failed", { state: "failed", reason: "404" }));
    await catalog.add(thing("ready"));
    expect(await catalog.contains("downloading")).toBe(false);
    expect(await catalog.contains("failed")).toBe(false);
    expect(await catalog.contains("ready")).toBe(true);
    expect(await catalog.contains("missing")).toBe(false);
  });

  it("lists nothing, without creating the root, before anything was added", async () => {
    expect(await catalog.list()).toEqual([]);
    await expect(readdir(root)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("lists entries sorted by id and skips the catalog's own dot-folders", async () => {
    for (const id of ["hf:z/z:z.gguf", "b-worker", "hf:a/a:a.gguf", "a-worker"]) await catalog.add(thing(id));
    await writeRaw(".hidden-entry", JSON.stringify(thing("hidden")));
    await mkdir(path.join(root, ".locks"), { recursive: true });
    expect((await catalog.list()).map((entry) => entry.id)).toEqual(["a-worker", "b-worker", "hf:a/a:a.gguf", "hf:z/z:z.gguf"]);
  });

  it("skips and logs metadata that is not JSON, not an entry or not a file, without throwing", async () => {
    await catalog.add(thing("good"));
    await writeRaw("not-json", "{ this is not json");
    await writeRaw("wrong-shape", JSON.stringify({ id: 5, status: "ready" }));
    await writeRaw("empty", "");
    await mkdir(path.join(root, "metadata-is-a-folder", "metadata.json"), { recursive: true });
    await mkdir(path.join(root, "no-metadata-yet"));
    await writeFile(path.join(root, "stray-file"), "not a folder");
    expect((await catalog.list()).map((entry) => entry.id)).toEqual(["good"]);
    expect(logged.join("\n")).toContain(path.join(root, "not-json"));
    expect(logged.join("\n")).toContain(path.join(root, "wrong-shape"));
    expect(logged.join("\n")).toContain(path.join(root, "metadata-is-a-folder"));
    expect(logged).toHaveLength(4);
  });

  it("does not hand out an entry whose folder holds another id's metadata", async () => {
    const id = "hf:org/repo:model.gguf";
    await mkdir(catalog.folderOf(id), { recursive: true });
    await writeFile(path.join(catalog.folderOf(id), "metadata.json"), JSON.stringify(thing("someone-else")));
    expect(await catalog.get(id)).toBeUndefined();
    expect(await catalog.contains(id)).toBe(false);
  });

  it("refuses hostile ids in every operation and writes nothing", async () => {
    for (const id of ["../escape", "a/../../b", "bad\u0000id"]) {
      expect(() => catalog.folderOf(id)).toThrow(RbeeError);
      await expect(catalog.add(thing(id))).rejects.toMatchObject({ code: "invalid_artifact_id" });
      await expect(catalog.get(id)).rejects.toMatchObject({ code: "invalid_artifact_id" });
      await expect(catalog.remove(id)).rejects.toMatchObject({ code: "invalid_artifact_id" });
      await expect(catalog.withLock(id, new AbortController().signal, () => {}, async () => 1)).rejects.toMatchObject({ code: "invalid_artifact_id" });
    }
    await expect(readdir(root)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(path.dirname(root))).toEqual([]);
  });

  it("refuses an entry that does not fit its schema and writes nothing", async () => {
    const invalid = { ...thing("bad-shape"), sizeBytes: -1 };
    await expect(catalog.add(invalid)).rejects.toThrow();
    await expect(readdir(root)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("FilesystemCatalog writes", () => {
  it("leaves no temp files beside metadata.json", async () => {
    for (let i = 0; i < 5; i++) await catalog.add(thing("hf:o/r:f.gguf", { state: "available" }, `note ${i}`));
    expect(await readdir(catalog.folderOf("hf:o/r:f.gguf"))).toEqual(["metadata.json"]);
  });

  it("never shows a reader a partly written metadata.json", async () => {
    const id = "big";
    const big = (char: string) => thing(id, { state: "available" }, char.repeat(2 * 1024 * 1024));
    await catalog.add(big("a"));
    const file = path.join(catalog.folderOf(id), "metadata.json");
    let writing = true;
    let reads = 0;
    const writer = (async () => {
      for (let i = 0; i < 30; i++) await catalog.add(big(i % 2 === 0 ? "b" : "c"));
      writing = false;
    })();
    const reader = (async () => {
      while (writing) {
        const parsed = Thing.parse(JSON.parse(await readFile(file, "utf8")));
        expect(new Set(parsed.details?.note)).toHaveLength(1);
        expect((await catalog.get(id))?.details?.note.length).toBe(2 * 1024 * 1024);
        reads++;
      }
    })();
    await Promise.all([writer, reader]);
    expect(reads).toBeGreaterThan(0);
    expect(await readdir(catalog.folderOf(id))).toEqual(["metadata.json"]);
  });

  it("lets many adds of one id race, all succeeding and leaving one whole entry", async () => {
    const notes = Array.from({ length: 20 }, (_, i) => `${i}`.repeat(50_000 + i * 1000));
    await Promise.all(notes.map((note) => catalog.add(thing("raced", { state: "available" }, note))));
    const stored = await catalog.get("raced");
    expect(notes).toContain(stored?.details?.note);
    expect(await readdir(catalog.folderOf("raced"))).toEqual(["metadata.json"]);
  });
});

describe("FilesystemCatalog.remove", () => {
  it("deletes the entry's files and leaves nothing in the trash", async () => {
    await catalog.add(thing("hf:o/r:f.gguf"));
    const folder = catalog.folderOf("hf:o/r:f.gguf");
    await writeFile(path.join(folder, "f.gguf"), Buffer.alloc(1024 * 1024));
    expect(await catalog.remove("hf:o/r:f.gguf")).toBe(true);
    await expect(readdir(folder)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(path.join(root, ".trash"))).toEqual([]);
  });

  it("answers false for an id it never held, and the second time", async () => {
    expect(await catalog.remove("never-added")).toBe(false);
    await catalog.add(thing("once"));
    expect(await catalog.remove("once")).toBe(true);
    expect(await catalog.remove("once")).toBe(false);
  });

  it("clears a folder left without metadata by an interrupted first write", async () => {
    const folder = catalog.folderOf("hf:o/r:half.gguf");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "half.gguf.partial"), "partial");
    expect(await catalog.remove("hf:o/r:half.gguf")).toBe(true);
    await expect(readdir(folder)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("lets two removes of one entry race: one removes it, the other finds nothing", async () => {
    await catalog.add(thing("twice"));
    const results = await Promise.all([catalog.remove("twice"), catalog.remove("twice")]);
    expect(results.sort()).toEqual([false, true]);
    expect(await catalog.list()).toEqual([]);
  });

  it("says which catalog cannot be written, and what to do, when its folder refuses writes", async () => {
    // sysfs refuses new folders to anyone, root included (EPERM), as a read-only mount (EROFS) or a
    // folder of another user (EACCES) would.
    const refusing = new FilesystemCatalog(path.join("/sys", "rbee-catalog-test", "things"), Thing, "thing");
    for (const write of [() => refusing.add(thing("a")), () => refusing.withLock("b", new AbortController().signal, () => {}, async () => 1)]) {
      await expect(write()).rejects.toMatchObject({
        code: "catalog_not_writable",
        message: expect.stringMatching(/^the thing catalog \/sys\/rbee-catalog-test\/things cannot be written \((EPERM|EACCES|EROFS): [^)]+\); make it writable, or start the hive with another cache folder \(RBEE_CACHE_DIR\)$/),
      });
    }
  });

  it("reads a download whose process is gone as failed, interrupted, and one of a live process as downloading", async () => {
    const gone = spawnSync(process.execPath, ["-e", ""]).pid; // exited by the time we read
    await catalog.add(thing("dead-download", { state: "downloading", pid: gone }));
    await catalog.add(thing("live-download", { state: "downloading", pid: process.ppid }));
    expect((await catalog.get("dead-download"))?.status).toEqual({
      state: "failed",
      reason: `interrupted: the process fetching it (pid ${gone}) is gone; ask for it again to resume`,
    });
    expect((await catalog.get("live-download"))?.status).toEqual({ state: "downloading", pid: process.ppid });
  });

  it("reads a download of this process as failed once it holds the entry's lock no more (its end could not be written)", async () => {
    await catalog.withLock("own-download", new AbortController().signal, () => {}, async () => {
      await catalog.add(thing("own-download", { state: "downloading", pid: process.pid }));
      expect((await catalog.get("own-download"))?.status).toEqual({ state: "downloading", pid: process.pid });
    });
    expect((await catalog.get("own-download"))?.status).toEqual({
      state: "failed",
      reason: "its fetch in this process ended without recording how; ask for it again to resume",
    });
  });

  it("empties the trash a process that died mid-delete left behind", async () => {
    await mkdir(path.join(root, ".trash", "big-model.1234.abcdef"), { recursive: true });
    await writeFile(path.join(root, ".trash", "big-model.1234.abcdef", "model.gguf"), "gigabytes");
    await catalog.emptyTrash();
    expect(await readdir(root)).not.toContain(".trash");
  });

  it("leaves other entries alone", async () => {
    await catalog.add(thing("keep"));
    await catalog.add(thing("drop"));
    await catalog.remove("drop");
    expect((await catalog.list()).map((entry) => entry.id)).toEqual(["keep"]);
  });
});
