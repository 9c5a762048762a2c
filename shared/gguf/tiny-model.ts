// The shape every tiny test model shares — a single-character SentencePiece vocab, a 2-block
// decoder with deterministic random weights, llama-style metadata — and the atomic file write.
// tiny-llama.ts (the chat model) and tiny-reranker.ts (the ranking model) choose the architecture
// and add what theirs needs on top.

import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { mulberry32 } from "../seeded-random.js";
import { encodeGguf, type GgufTensor, type GgufValue } from "./gguf-writer.js";

/** Context length written to `<arch>.context_length` unless overridden. */
export const TINY_MODEL_CONTEXT_LENGTH = 4096;
/** PRNG seed of the weights unless overridden. */
export const TINY_MODEL_DEFAULT_SEED = 42;

export const N_EMBD = 64;
/** Attention heads unless a spec says otherwise: heads of 16 values, as small as the model is. */
export const DEFAULT_HEAD_COUNT = 4;
/** Head counts a spec may ask for: heads of 64, 32, 16 or 8 values. */
export const HEAD_COUNTS = [1, 2, 4, 8] as const;
export type HeadCount = (typeof HEAD_COUNTS)[number];
const N_LAYER = 2;
const N_FF = 128;
/** Values per head with DEFAULT_HEAD_COUNT heads. */
export const N_HEAD_DIM = N_EMBD / DEFAULT_HEAD_COUNT;
// Half-width of the uniform init range: wide enough that logits differ clearly, narrow enough to
// keep activations tame.
const INIT_RANGE = 0.2;

// llama.cpp token types (llama_token_type).
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

const CHATML_TEMPLATE =
  "{% for message in messages %}" +
  "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

interface Vocab {
  tokens: string[];
  types: number[];
  scores: number[];
  unk: number;
  bos: number;
  eos: number;
  /** Id of "▁"; it and the printable ASCII after it are the only tokens the model emits. */
  firstTextToken: number;
  /** The fill-in-the-middle tokens, when the spec asks for them. */
  fim?: { prefix: number; suffix: number; middle: number };
}

/** Makes tensors from the model's one seeded random stream, so the draw order fixes the bytes. */
export interface TensorMaker {
  random(name: string, shape: number[]): GgufTensor;
  ones(name: string, size: number): GgufTensor;
}

export interface TinyModelSpec {
  architecture: string;
  name: string;
  seed: number;
  contextLength: number;
  /**
   * Attention heads (DEFAULT_HEAD_COUNT unless given). The bytes of a spec without it never change.
   * With fewer, larger heads llama.cpp's attention runs its vector loops, as on real models (64–128
   * values a head), instead of the scalar tail those loops leave for heads of 16 values.
   */
  headCount?: HeadCount;
  /**
   * Values per token in the hidden state and in an embedding (N_EMBD unless given): wider makes a
   * bigger embeddings answer for the same inputs. A multiple of 64; without it the bytes never change.
   */
  embeddingLength?: number;
  /**
   * Whether the vocabulary ends with fill-in-the-middle tokens (`<|fim_prefix|>`, `<|fim_suffix|>`,
   * `<|fim_middle|>`, as Qwen2.5-Coder spells them), named in the metadata, so llama.cpp can infill
   * with it. Appended after every other token: ids, and the bytes of a spec without it, never change.
   */
  fillInTheMiddle?: boolean;
  /** Tensors a block of this architecture has beyond llama's, made after llama's ones of block `prefix`. */
  blockExtras?: (prefix: string, make: TensorMaker) => GgufTensor[];
  /** Tensors after `output.weight`, such as a classification head. */
  headExtras?: (make: TensorMaker) => GgufTensor[];
  /** Metadata after the architecture's hyperparameters, before the tokenizer. */
  metadataExtras?: Array<readonly [string, GgufValue]>;
}

/**
 * SentencePiece-style vocab with no merges: every piece is a single character, so llama.cpp's
 * SPM tokenizer maps each character to its own token and falls back to <0xXX> byte tokens for
 * anything else (newlines, non-ASCII), which makes tokenize → detokenize round-trip exactly.
 */
/** The id of one printable ASCII character (a space is "▁") in the tiny models' vocabulary, as tests name tokens. */
export function tinyTokenId(character: string): number {
  const id = buildVocab().tokens.indexOf(character === " " ? "\u2581" : character);
  if (id < 0 || character.length !== 1) throw new Error(`${JSON.stringify(character)} is not one token of the tiny models' vocabulary`);
  return id;
}

/** Tokens in the tiny models' vocabulary: any id from it on is not one of theirs (but the three FIM tokens of a fillInTheMiddle model). */
export const TINY_VOCABULARY_SIZE = buildVocab().tokens.length;

function buildVocab(fillInTheMiddle = false): Vocab {
  const tokens: string[] = [];
  const types: number[] = [];
  const add = (text: string, type: number): number => {
    tokens.push(text);
    types.push(type);
    return tokens.length - 1;
  };
  const unk = add("<unk>", TOKEN_TYPE.unknown);
  const bos = add("<s>", TOKEN_TYPE.control);
  add("</s>", TOKEN_TYPE.control);
  add("<|im_start|>", TOKEN_TYPE.control);
  // EOS is <|im_end|> rather than </s>: node-llama-cpp's ChatML wrapper stops on either, but with
  // <|im_end|> as EOS plain completions (which only stop on EOS) also end where a chat turn ends.
  // llama.cpp additionally treats both texts as end-of-generation tokens.
  const eos = add("<|im_end|>", TOKEN_TYPE.control);
  for (let b = 0; b < 256; b++) {
    add(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, TOKEN_TYPE.byte);
  }
  // SentencePiece writes spaces as U+2581, so that piece stands in for " ".
  const firstTextToken = add("\u2581", TOKEN_TYPE.normal);
  for (let c = 0x21; c <= 0x7e; c++) add(String.fromCharCode(c), TOKEN_TYPE.normal);
  const fim = fillInTheMiddle
    ? { prefix: add("<|fim_prefix|>", TOKEN_TYPE.control), suffix: add("<|fim_suffix|>", TOKEN_TYPE.control), middle: add("<|fim_middle|>", TOKEN_TYPE.control) }
    : undefined;
  // Scores only rank merges; with single-character pieces there are none, so any values work.
  const scores = tokens.map((_, i) => (types[i] === TOKEN_TYPE.normal ? -i : 0));
  return { tokens, types, scores, unk, bos, eos, firstTextToken, ...(fim ? { fim } : {}) };
}

/** Encodes a tiny model as GGUF bytes; the same spec always gives identical bytes. */
export function encodeTinyModel(spec: TinyModelSpec): Uint8Array {
  const headCount = spec.headCount ?? DEFAULT_HEAD_COUNT;
  const nEmbd = spec.embeddingLength ?? N_EMBD;
  const vocab = buildVocab(spec.fillInTheMiddle);
  const nVocab = vocab.tokens.length;
  const random = mulberry32(spec.seed);
  const make: TensorMaker = {
    random(name, shape) {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * INIT_RANGE;
      return { name, shape, data };
    },
    ones: (name, size) => ({ name, shape: [size], data: new Float32Array(size).fill(1) }),
  };

  const tensors: GgufTensor[] = [make.random("token_embd.weight", [nEmbd, nVocab])];
  for (let l = 0; l < N_LAYER; l++) {
    const p = `blk.${l}`;
    tensors.push(
      make.ones(`${p}.attn_norm.weight`, nEmbd),
      make.random(`${p}.attn_q.weight`, [nEmbd, nEmbd]),
      make.random(`${p}.attn_k.weight`, [nEmbd, nEmbd]),
      make.random(`${p}.attn_v.weight`, [nEmbd, nEmbd]),
      make.random(`${p}.attn_output.weight`, [nEmbd, nEmbd]),
      make.ones(`${p}.ffn_norm.weight`, nEmbd),
      make.random(`${p}.ffn_gate.weight`, [nEmbd, N_FF]),
      make.random(`${p}.ffn_up.weight`, [nEmbd, N_FF]),
      make.random(`${p}.ffn_down.weight`, [N_FF, nEmbd]),
      ...(spec.blockExtras?.(p, make) ?? []),
    );
  }
  const output = make.random("output.weight", [nEmbd, nVocab]);
  // A zero output row gives that token a logit of exactly 0 while the text tokens get random
  // logits, some well above 0, so greedy decoding never picks it and sampling rarely does.
  // Zeroing the control tokens keeps random text from ending (EOS) at once; zeroing the byte
  // tokens keeps output to readable printable ASCII instead of arbitrary (often invalid UTF-8) bytes.
  vocab.types.forEach((type, token) => {
    if (type !== TOKEN_TYPE.normal) output.data.fill(0, token * nEmbd, (token + 1) * nEmbd);
  });
  tensors.push(make.ones("output_norm.weight", nEmbd), output, ...(spec.headExtras?.(make) ?? []));

  const arch = spec.architecture;
  const metadata: Array<readonly [string, GgufValue]> = [
    ["general.architecture", { type: "string", value: arch }],
    ["general.name", { type: "string", value: spec.name }],
    // 0 = ALL_F32.
    ["general.file_type", { type: "u32", value: 0 }],
    [`${arch}.vocab_size`, { type: "u32", value: nVocab }],
    [`${arch}.context_length`, { type: "u32", value: spec.contextLength }],
    [`${arch}.embedding_length`, { type: "u32", value: nEmbd }],
    [`${arch}.block_count`, { type: "u32", value: N_LAYER }],
    [`${arch}.feed_forward_length`, { type: "u32", value: N_FF }],
    // llama.cpp requires the rope dimension to equal the head size.
    [`${arch}.rope.dimension_count`, { type: "u32", value: nEmbd / headCount }],
    [`${arch}.attention.head_count`, { type: "u32", value: headCount }],
    [`${arch}.attention.head_count_kv`, { type: "u32", value: headCount }],
    // llama.cpp reads these two as f32 and refuses other types.
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: "f32", value: 1e-5 }],
    [`${arch}.rope.freq_base`, { type: "f32", value: 10000 }],
    ...(spec.metadataExtras ?? []),
    ["tokenizer.ggml.model", { type: "string", value: "llama" }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: vocab.tokens }],
    ["tokenizer.ggml.scores", { type: "f32[]", value: vocab.scores }],
    // llama.cpp reads token types as a signed int32 array and rejects any other element type.
    ["tokenizer.ggml.token_type", { type: "i32[]", value: vocab.types }],
    ["tokenizer.ggml.bos_token_id", { type: "u32", value: vocab.bos }],
    ["tokenizer.ggml.eos_token_id", { type: "u32", value: vocab.eos }],
    ["tokenizer.ggml.unknown_token_id", { type: "u32", value: vocab.unk }],
    ...(vocab.fim
      ? ([
          ["tokenizer.ggml.fim_pre_token_id", { type: "u32", value: vocab.fim.prefix }],
          ["tokenizer.ggml.fim_suf_token_id", { type: "u32", value: vocab.fim.suffix }],
          ["tokenizer.ggml.fim_mid_token_id", { type: "u32", value: vocab.fim.middle }],
        ] as const)
      : []),
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
    // No implicit leading "▁": otherwise detokenize(tokenize(text)) would not give back text exactly.
    ["tokenizer.ggml.add_space_prefix", { type: "bool", value: false }],
    // A plain ChatML template, which node-llama-cpp recognises and maps to its ChatML wrapper.
    ["tokenizer.chat_template", { type: "string", value: CHATML_TEMPLATE }],
  ];
  return encodeGguf(metadata, tensors);
}

/** Writes GGUF bytes to `path`, creating parent directories; readers never see a partial file. */
export async function writeGgufAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Write beside the target and rename: rename is atomic within a filesystem.
  const tempPath = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tempPath, bytes);
    await rename(tempPath, path);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
}
