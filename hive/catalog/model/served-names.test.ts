// The names a catalog's models answer to: noteServedName on a real filesystem catalog, and
// entriesByName (with catalogFacts, which reports its choice to the queen) on entries as the
// catalog lists them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { catalogFacts } from "../../connection/catalog-facts.js";
import { FilesystemCatalog } from "../filesystem-catalog.js";
import { MAX_SERVED_NAMES, ModelArtifact, type ServedName } from "./model-artifact.js";
import { entriesByName, noteServedName } from "./served-names.js";

function entry(id: string, servedAs?: ServedName[]): ModelArtifact {
  return {
    id,
    status: { state: "available" },
    sizeBytes: 1000,
    addedAt: "2026-12-01T00:00:00.000Z",
    details: {
      vendor: "file",
      fileName: "model.gguf",
      origin: id,
      sha256: null,
      linked: true,
      gguf: { architecture: "llama", name: null, contextLength: 4096, parameterCount: 1, quantization: null, hasChatTemplate: true },
      memory: { contextSize: 4096, cpuOnlyRamBytes: 2000, fullOffloadVramBytes: 3000 },
    },
    ...(servedAs ? { servedAs } : {}),
  };
}

/** What each name means, as `name → id`. */
function meanings(entries: ModelArtifact[]): Record<string, string> {
  return Object.fromEntries([...entriesByName(entries)].map(([name, chosen]) => [name, chosen.id]));
}

describe("entriesByName", () => {
  it("has each entry answer to the name derived from its source and to every name it was served as", () => {
    const chat = entry("file:/m/tiny.gguf", [
      { name: "chat", at: "2026-12-02T00:00:00.000Z" },
      { name: "assistant", at: "2026-12-01T00:00:00.000Z" },
    ]);
    expect(meanings([chat, entry("hf:org/Repo-GGUF:Q4_K_M")])).toEqual({
      tiny: "file:/m/tiny.gguf",
      chat: "file:/m/tiny.gguf",
      assistant: "file:/m/tiny.gguf",
      "Repo-GGUF-Q4_K_M": "hf:org/Repo-GGUF:Q4_K_M",
    });
  });

  it("gives a name two files answer to to the one last started under it, else to the first by id", () => {
    const older = entry("file:/a/model.gguf", [{ name: "model", at: "2026-12-01T00:00:00.000Z" }]);
    const newer = entry("file:/b/model.gguf", [{ name: "model", at: "2026-12-03T00:00:00.000Z" }]);
    expect(meanings([older, newer]).model).toBe("file:/b/model.gguf");
    expect(meanings([newer, older]).model).toBe("file:/b/model.gguf");
    expect(meanings([entry("file:/b/model.gguf"), entry("file:/a/model.gguf")]).model).toBe("file:/a/model.gguf");
  });

  it("gives a name one file was served as and another is derived as to the one served as it", () => {
    const derived = entry("file:/a/chat.gguf");
    const served = entry("file:/z/tiny.gguf", [{ name: "chat", at: "2026-12-01T00:00:00.000Z" }]);
    expect(meanings([derived, served]).chat).toBe("file:/z/tiny.gguf");
  });
});

describe("catalogFacts", () => {
  it("reports each model once under each of its names, and no model that is not available", () => {
    const downloading: ModelArtifact = { ...entry("file:/m/partial.gguf"), status: { state: "downloading", pid: 1 } };
    const facts = catalogFacts([entry("file:/m/tiny.gguf", [{ name: "chat", at: "2026-12-01T00:00:00.000Z" }]), downloading]);
    expect(facts.map(({ name, source }) => ({ name, source }))).toEqual([
      { name: "chat", source: "file:/m/tiny.gguf" },
      { name: "tiny", source: "file:/m/tiny.gguf" },
    ]);
  });
});

describe("noteServedName", () => {
  let dir = "";
  let catalog: FilesystemCatalog<ModelArtifact>;
  const signal = new AbortController().signal;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "rbee-served-names-"));
    catalog = new FilesystemCatalog(path.join(dir, "models"), ModelArtifact, "model");
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const servedAs = async (id: string) => (await catalog.get(id))?.servedAs?.map((served) => served.name);

  it("keeps the names on the entry, the latest first, each once, at most MAX_SERVED_NAMES", async () => {
    const id = "file:/m/tiny.gguf";
    await catalog.add(entry(id));
    await noteServedName(catalog, id, "chat", signal, new Date("2026-12-01T00:00:00Z"));
    await noteServedName(catalog, id, "coder", signal, new Date("2026-12-02T00:00:00Z"));
    await noteServedName(catalog, id, "chat", signal, new Date("2026-12-03T00:00:00Z"));
    expect(await servedAs(id)).toEqual(["chat", "coder"]);
    expect((await catalog.get(id))?.servedAs?.[0]?.at).toBe("2026-12-03T00:00:00.000Z");

    for (let n = 0; n < MAX_SERVED_NAMES + 2; n += 1) await noteServedName(catalog, id, `name-${n}`, signal);
    const names = await servedAs(id);
    expect(names).toHaveLength(MAX_SERVED_NAMES);
    expect(names?.[0]).toBe(`name-${MAX_SERVED_NAMES + 1}`);
  });

  it("writes nothing for an entry that is gone or not available", async () => {
    await noteServedName(catalog, "file:/m/gone.gguf", "chat", signal);
    expect(await catalog.get("file:/m/gone.gguf")).toBeUndefined();
    const failed: ModelArtifact = { ...entry("file:/m/failed.gguf"), status: { state: "failed", reason: "no such file" } };
    await catalog.add(failed);
    await noteServedName(catalog, failed.id, "chat", signal);
    expect(await servedAs(failed.id)).toBeUndefined();
  });
});
