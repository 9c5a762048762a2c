// Builds "rbee-tiny-rerank": a deterministic, random-weight reranker GGUF (~0.5 MB) that llama.cpp
// ranks documents with, so the /v1/rerank tests have a real reranker without downloading one.
//
// It is a Qwen3-Reranker in miniature, because of the architectures llama.cpp gives a ranking head
// (`cls.output.weight`) qwen3 is the one nearest the tiny llama: the same blocks plus per-head q/k
// norms. llama.cpp's rank pooling reads the last token's hidden state through that head (one row
// per label of `qwen3.classifier.output_labels`) and takes a softmax; node-llama-cpp reports the
// first label's probability as the score, so the "yes"/"no" pair gives scores in (0, 1).
// node-llama-cpp calls a model a reranker when it has that head (GgufInsights.supportsRanking).

import { N_EMBD, N_HEAD_DIM, encodeTinyModel, TINY_MODEL_DEFAULT_SEED, writeGgufAtomically } from "./tiny-model.js";

/** Context length of the tiny reranker: a query and a document together. */
export const TINY_RERANKER_CONTEXT_LENGTH = 1024;

export interface TinyRerankerOptions {
  /** PRNG seed for the weights; the same seed always gives byte-identical files. Defaults to 42. */
  seed?: number;
}

/** llama.cpp's LLAMA_POOLING_TYPE_RANK. */
const POOLING_TYPE_RANK = 4;
/** Labels of the ranking head's rows, as a converted Qwen3-Reranker has them: score = P(yes). */
const LABELS = ["yes", "no"];

/** Encodes the tiny reranker as GGUF bytes; the same options always give identical bytes. */
export function createTinyRerankerGguf(options: TinyRerankerOptions = {}): Uint8Array {
  return encodeTinyModel({
    architecture: "qwen3",
    name: "rbee-tiny-rerank",
    seed: options.seed ?? TINY_MODEL_DEFAULT_SEED,
    contextLength: TINY_RERANKER_CONTEXT_LENGTH,
    blockExtras: (prefix, make) => [
      make.ones(`${prefix}.attn_q_norm.weight`, N_HEAD_DIM),
      make.ones(`${prefix}.attn_k_norm.weight`, N_HEAD_DIM),
    ],
    headExtras: (make) => [make.random("cls.output.weight", [N_EMBD, LABELS.length])],
    metadataExtras: [
      ["qwen3.pooling_type", { type: "u32", value: POOLING_TYPE_RANK }],
      ["qwen3.classifier.output_labels", { type: "string[]", value: LABELS }],
    ],
  });
}

/** Writes the tiny reranker to `path`, creating parent directories; readers never see a partial file. */
export async function writeTinyRerankerGguf(path: string, options: TinyRerankerOptions = {}): Promise<void> {
  await writeGgufAtomically(path, createTinyRerankerGguf(options));
}
