// Checks that the tiny reranker GGUF is deterministic, small, and reads back as a reranker: a qwen3
// model with rank pooling and the ranking head node-llama-cpp looks for. That llama.cpp really
// ranks with it is worker/rerank-api.test.ts's part.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { createTinyLlamaGguf } from "./tiny-llama.js";
import { createTinyRerankerGguf, TINY_RERANKER_CONTEXT_LENGTH, writeTinyRerankerGguf } from "./tiny-reranker.js";

describe("createTinyRerankerGguf", () => {
  it("gives identical bytes for the same seed, other bytes for another seed, and is not the chat model", () => {
    const a = createTinyRerankerGguf();
    expect(Buffer.from(createTinyRerankerGguf()).equals(a)).toBe(true);
    expect(Buffer.from(createTinyRerankerGguf({ seed: 8 })).equals(a)).toBe(false);
    expect(Buffer.from(createTinyLlamaGguf()).equals(a)).toBe(false);
  });

  it("stays well under 1 MB", () => {
    expect(createTinyRerankerGguf().byteLength).toBeLessThan(1024 * 1024);
  });

  it("reads back as a qwen3 reranker with rank pooling, two labels and a ranking head", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rbee-tiny-rerank-"));
    try {
      const path = join(dir, "rbee-tiny-rerank.gguf");
      await writeTinyRerankerGguf(path);
      const info = await readGgufFileInfo(path, { logWarnings: false });
      expect(info.metadata.general.architecture).toBe("qwen3");
      expect(info.metadata.general.name).toBe("rbee-tiny-rerank");
      expect(info.architectureMetadata).toMatchObject({ context_length: TINY_RERANKER_CONTEXT_LENGTH, pooling_type: 4 });
      expect(info.architectureMetadata).toHaveProperty("classifier.output_labels", ["yes", "no"]);
      const head = info.fullTensorInfo?.find((tensor) => tensor.name === "cls.output.weight");
      expect(head?.dimensions).toEqual([64, 2]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
