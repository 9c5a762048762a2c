// Checks that the tiny llama GGUF is deterministic, small, readable as GGUF, and really runs in llama.cpp.

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaChatSession, readGgufFileInfo, type Llama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTinyLlamaGguf, TINY_MODEL_CONTEXT_LENGTH, writeTinyLlamaGguf } from "./tiny-llama.js";

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

describe("createTinyLlamaGguf", () => {
  it("gives identical bytes for the same seed and different bytes for another seed", () => {
    const a = createTinyLlamaGguf({ seed: 7 });
    expect(Buffer.from(createTinyLlamaGguf({ seed: 7 })).equals(a)).toBe(true);
    expect(Buffer.from(createTinyLlamaGguf({ seed: 8 })).equals(a)).toBe(false);
    expect(Buffer.from(createTinyLlamaGguf()).equals(createTinyLlamaGguf())).toBe(true);
  });

  it("has 4 attention heads unless told otherwise", () => {
    expect(Buffer.from(createTinyLlamaGguf({ headCount: 4 })).equals(createTinyLlamaGguf())).toBe(true);
    expect(Buffer.from(createTinyLlamaGguf({ headCount: 1 })).equals(createTinyLlamaGguf())).toBe(false);
  });

  it("stays well under 1 MB", () => {
    expect(createTinyLlamaGguf().byteLength).toBeLessThan(1024 * 1024);
  });
});

describe("tiny llama model file", () => {
  let dir = "";
  let modelPath = "";
  let llama: Llama | undefined;
  let model: LlamaModel | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-tiny-"));
    // A nested, not-yet-existing directory checks that parents are created.
    modelPath = join(dir, "models", "rbee-tiny.gguf");
    await writeTinyLlamaGguf(modelPath);
  });

  afterAll(async () => {
    await model?.dispose();
    await llama?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  // build: "never" so a missing prebuilt binary fails fast instead of compiling llama.cpp for
  // minutes; one thread because CI machines here have two cores.
  async function loadModel(): Promise<LlamaModel> {
    if (model) return model;
    llama = await getLlama({ gpu: false, build: "never", maxThreads: 1 });
    model = await llama.loadModel({ modelPath });
    return model;
  }

  async function greedyReply(loaded: LlamaModel, text: string): Promise<{ reply: string; wrapper: string }> {
    const context = await loaded.createContext({ contextSize: 2048 });
    try {
      const session = new LlamaChatSession({
        contextSequence: context.getSequence(),
        systemPrompt: "You are a tiny test model."
      });
      const reply = await session.prompt(text, { maxTokens: 32, temperature: 0 });
      return { reply, wrapper: session.chatWrapper.wrapperName };
    } finally {
      await context.dispose();
    }
  }

  it("writes the file atomically, leaving no temp files behind", async () => {
    expect(await readdir(join(dir, "models"))).toEqual(["rbee-tiny.gguf"]);
  });

  it("reads back as a llama GGUF with the context length and ChatML template", async () => {
    const info = await readGgufFileInfo(modelPath, { logWarnings: false });
    expect(info.metadata.general.architecture).toBe("llama");
    expect(info.metadata.general.name).toBe("rbee-tiny");
    expect(info.architectureMetadata.context_length).toBe(TINY_MODEL_CONTEXT_LENGTH);
    const template = info.metadata.tokenizer.chat_template;
    expect(template).toContain("<|im_start|>");
    expect(template).toContain("add_generation_prompt");
  });

  it("honours a custom context length", async () => {
    const customPath = join(dir, "custom.gguf");
    await writeTinyLlamaGguf(customPath, { contextLength: 1024 });
    const info = await readGgufFileInfo(customPath, { logWarnings: false });
    expect(info.architectureMetadata.context_length).toBe(1024);
  });

  it("honours a head count, and llama.cpp generates from heads of 64 values", async () => {
    const widePath = join(dir, "one-head.gguf");
    await writeTinyLlamaGguf(widePath, { headCount: 1 });
    const info = await readGgufFileInfo(widePath, { logWarnings: false });
    expect(info.architectureMetadata.attention?.head_count).toBe(1);
    expect(info.architectureMetadata.rope?.dimension_count).toBe(64);
    await loadModel();
    const wide = await llama!.loadModel({ modelPath: widePath });
    try {
      const { reply } = await greedyReply(wide, "Hello");
      expect(reply).toMatch(PRINTABLE_ASCII);
    } finally {
      await wide.dispose();
    }
  }, 60_000);

  it("loads in llama.cpp and round-trips text through its tokenizer", async () => {
    const loaded = await loadModel();
    const text = "Hello, world!\n";
    const tokens = loaded.tokenize(text);
    expect(loaded.detokenize(tokens)).toBe(text);
    // ChatML markers must be single control tokens, and EOS is the end-of-turn marker.
    expect(loaded.tokenize("<|im_start|>", true)).toHaveLength(1);
    expect(loaded.tokenize("<|im_end|>", true)).toEqual([loaded.tokens.eos]);
  }, 60_000);

  it("answers a ChatML chat with printable text, the same every greedy run", async () => {
    const loaded = await loadModel();
    const first = await greedyReply(loaded, "Hello");
    expect(first.wrapper).toBe("ChatML");
    expect(first.reply.trim()).not.toBe("");
    expect(first.reply).toMatch(PRINTABLE_ASCII);
    const second = await greedyReply(loaded, "Hello");
    expect(second.reply).toBe(first.reply);
  }, 60_000);
});
