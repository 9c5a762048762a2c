// Builds "rbee-tiny": a deterministic, random-weight llama GGUF (~0.5 MB) that llama.cpp loads and
// generates from, so tests and the demo have a real model without downloading one.

import { encodeTinyModel, type HeadCount, TINY_MODEL_CONTEXT_LENGTH, TINY_MODEL_DEFAULT_SEED, writeGgufAtomically } from "./tiny-model.js";

export { TINY_MODEL_CONTEXT_LENGTH } from "./tiny-model.js";

export interface TinyLlamaOptions {
  /** PRNG seed for the weights; the same seed always gives byte-identical files. Defaults to 42. */
  seed?: number;
  /** Trained context length the model advertises. Defaults to TINY_MODEL_CONTEXT_LENGTH. */
  contextLength?: number;
  /** Attention heads; defaults to the tests' 4 (see TinyModelSpec.headCount). */
  headCount?: HeadCount;
  /** Values per token of its hidden state and embeddings; defaults to the tests' 64 (see TinyModelSpec.embeddingLength). */
  embeddingLength?: number;
  /** Fill-in-the-middle tokens at the end of its vocabulary (see TinyModelSpec.fillInTheMiddle). */
  fillInTheMiddle?: boolean;
}

/** Encodes the tiny llama model as GGUF bytes; the same options always give identical bytes. */
export function createTinyLlamaGguf(options: TinyLlamaOptions = {}): Uint8Array {
  return encodeTinyModel({
    architecture: "llama",
    name: "rbee-tiny",
    seed: options.seed ?? TINY_MODEL_DEFAULT_SEED,
    contextLength: options.contextLength ?? TINY_MODEL_CONTEXT_LENGTH,
    headCount: options.headCount,
    embeddingLength: options.embeddingLength,
    fillInTheMiddle: options.fillInTheMiddle,
  });
}

/** Writes the tiny model to `path`, creating parent directories; readers never see a partial file. */
export async function writeTinyLlamaGguf(path: string, options: TinyLlamaOptions = {}): Promise<void> {
  await writeGgufAtomically(path, createTinyLlamaGguf(options));
}
