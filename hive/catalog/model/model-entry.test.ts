// modelEntry on real GGUF files written by the tiny llama writer: the entry records what the
// file's own header says, its size on disk and a memory estimate, and refuses non-GGUF files
// (deleting them: nothing to resume).
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RbeeError } from "../../../shared/errors.js";
import { TINY_MODEL_CONTEXT_LENGTH, writeTinyLlamaGguf } from "../../../shared/gguf/tiny-llama.js";
import { ModelArtifact, modelFilePath } from "./model-artifact.js";
import { modelEntry, type FetchedModelFile } from "./model-entry.js";

/** The tiny model's shape (see shared/gguf/tiny-llama.ts), for the KV cache it needs. */
const TINY_LAYERS = 2;
const TINY_EMBEDDING = 64;
/** K and V, f16 (2 bytes each), per layer and per context position. */
const kvCacheBytes = (contextSize: number) => TINY_LAYERS * contextSize * TINY_EMBEDDING * 2 * 2;

let dir = "";
let folder = "";

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-model-entry-"));
  folder = path.join(dir, "entry");
  await writeTinyLlamaGguf(path.join(folder, "rbee-tiny.gguf"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fetched(overrides: Partial<FetchedModelFile> = {}): FetchedModelFile {
  return {
    id: "hf:rbee/tiny:rbee-tiny.gguf",
    vendor: "hugging-face",
    folder,
    fileName: "rbee-tiny.gguf",
    origin: "https://huggingface.co/rbee/tiny/resolve/main/rbee-tiny.gguf",
    sha256: "a".repeat(64),
    linked: false,
    ...overrides,
  };
}

async function invalidGguf(file: FetchedModelFile): Promise<RbeeError> {
  const error: unknown = await modelEntry(file).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof RbeeError)) throw new Error(`expected an RbeeError, got ${String(error)}`);
  return error;
}

describe("modelEntry", () => {
  it("records what the GGUF's own header says", async () => {
    const entry = await modelEntry(fetched());
    expect(entry.details?.gguf).toEqual({
      architecture: "llama",
      name: "rbee-tiny",
      contextLength: TINY_MODEL_CONTEXT_LENGTH,
      parameterCount: expect.any(Number),
      quantization: "ALL_F32",
      hasChatTemplate: true,
    });
    expect(entry.details?.gguf.parameterCount).toBeGreaterThan(0);
  });

  it("counts one parameter per f32 weight in the file", async () => {
    const entry = await modelEntry(fetched());
    const parameters = entry.details?.gguf.parameterCount ?? 0;
    // Every tensor is f32, so the weights take 4 bytes each and the header the rest.
    expect(parameters * 4).toBeLessThanOrEqual(entry.sizeBytes ?? 0);
    expect(parameters * 4).toBeGreaterThan((entry.sizeBytes ?? 0) * 0.9);
  });

  it("is available, sized as the file on disk, and keeps where it came from", async () => {
    const entry = await modelEntry(fetched());
    expect(entry.id).toBe("hf:rbee/tiny:rbee-tiny.gguf");
    expect(entry.status).toEqual({ state: "available" });
    expect(entry.sizeBytes).toBe((await stat(path.join(folder, "rbee-tiny.gguf"))).size);
    expect(entry.details).toMatchObject({
      vendor: "hugging-face",
      fileName: "rbee-tiny.gguf",
      origin: "https://huggingface.co/rbee/tiny/resolve/main/rbee-tiny.gguf",
      sha256: "a".repeat(64),
      linked: false,
    });
    expect(Number.isNaN(Date.parse(entry.addedAt))).toBe(false);
  });

  it("validates against ModelArtifact and survives a JSON round trip", async () => {
    const entry = await modelEntry(fetched());
    expect(ModelArtifact.parse(JSON.parse(JSON.stringify(entry)))).toEqual(entry);
  });

  it("estimates memory with the KV cache of the context on whichever side the layers are", async () => {
    const entry = await modelEntry(fetched());
    const memory = entry.details?.memory;
    const size = entry.sizeBytes ?? 0;
    expect(memory?.contextSize).toBe(TINY_MODEL_CONTEXT_LENGTH);
    expect(memory?.cpuOnlyRamBytes).toBeGreaterThanOrEqual(size * 0.9 + kvCacheBytes(TINY_MODEL_CONTEXT_LENGTH));
    expect(memory?.fullOffloadVramBytes).toBeGreaterThanOrEqual(size * 0.5 + kvCacheBytes(TINY_MODEL_CONTEXT_LENGTH));
  });

  it("estimates for the model's own context length when it is shorter than a worker's default", async () => {
    const shortFolder = path.join(dir, "short");
    await writeTinyLlamaGguf(path.join(shortFolder, "short.gguf"), { contextLength: 1024 });
    const entry = await modelEntry(fetched({ folder: shortFolder, fileName: "short.gguf" }));
    expect(entry.details?.gguf.contextLength).toBe(1024);
    expect(entry.details?.memory?.contextSize).toBe(1024);
  });

  it("sizes a linked model by the file it points to, not by the link", async () => {
    const linkedFolder = path.join(dir, "linked");
    await mkdir(linkedFolder);
    await symlink(path.join(folder, "rbee-tiny.gguf"), path.join(linkedFolder, "rbee-tiny.gguf"));
    const entry = await modelEntry(fetched({ folder: linkedFolder, linked: true, origin: path.join(folder, "rbee-tiny.gguf"), sha256: null }));
    expect(entry.sizeBytes).toBe((await stat(path.join(folder, "rbee-tiny.gguf"))).size);
    expect(entry.details?.linked).toBe(true);
    expect(entry.details?.gguf.architecture).toBe("llama");
  });

  it.each([
    ["a text file", Buffer.from("this is not a model\n")],
    ["an empty file", Buffer.alloc(0)],
    ["a PNG", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])],
  ])("refuses %s with invalid_gguf naming the file, and deletes it: there is nothing to resume", async (_, bytes) => {
    await writeFile(path.join(dir, "not-a-model.gguf"), bytes);
    const error = await invalidGguf(fetched({ folder: dir, fileName: "not-a-model.gguf" }));
    expect(error.code).toBe("invalid_gguf");
    expect(error.status).toBe(422);
    expect(error.message).toContain(path.join(dir, "not-a-model.gguf"));
    await expect(stat(path.join(dir, "not-a-model.gguf"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it.each([64, 1000, 4096])("refuses a GGUF cut off inside its header after %i bytes, rather than recording zeros", async (length) => {
    const whole = await readFile(path.join(folder, "rbee-tiny.gguf"));
    await writeFile(path.join(dir, "cut.gguf"), whole.subarray(0, length));
    const error = await invalidGguf(fetched({ folder: dir, fileName: "cut.gguf" }));
    expect(error.code).toBe("invalid_gguf");
    expect(error.message).toContain(`the file has ${length} bytes`);
  });

  it("refuses a GGUF whose header is whole but whose tensors' data was cut off, as a download with no length to check leaves it", async () => {
    const whole = await readFile(path.join(folder, "rbee-tiny.gguf"));
    for (const length of [whole.length - 1, Math.floor(whole.length * 0.6)]) {
      await writeFile(path.join(dir, "cut.gguf"), whole.subarray(0, length));
      const error = await invalidGguf(fetched({ folder: dir, fileName: "cut.gguf" }));
      expect(error).toMatchObject({ code: "invalid_gguf", message: expect.stringMatching(new RegExp(`its tensors' data runs to byte \\d+ but the file has ${length} bytes; it was cut off`)) });
    }
  });
});

describe("modelFilePath", () => {
  it("is the GGUF inside the entry's folder", async () => {
    const entry = await modelEntry(fetched());
    if (!entry.details) throw new Error("no details");
    expect(modelFilePath(folder, entry.details)).toBe(path.join(folder, "rbee-tiny.gguf"));
  });
});
