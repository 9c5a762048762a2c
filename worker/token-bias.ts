// OpenAI's `logit_bias` for node-llama-cpp: each token, named by its id in the model's own
// vocabulary, gets its bias added to its logit before sampling (-100: never, in practice; 100:
// that token only), as llama.cpp's own server does, end-of-generation tokens too. An id the model
// does not have is refused: the sampler would index past the model's logits.
import { type LlamaModel, type Token, TokenBias } from "node-llama-cpp";
import { RbeeError } from "../shared/errors.js";

/** node-llama-cpp's TokenBias for `logitBias`; undefined when there is none to apply. */
export function tokenBiasOf(model: LlamaModel, logitBias: Readonly<Record<string, number>> | null | undefined): TokenBias | undefined {
  const entries = Object.entries(logitBias ?? {});
  if (entries.length === 0) return undefined;
  const size = vocabularySize(model);
  const bias = new TokenBias(model.tokenizer);
  for (const [key, logit] of entries) {
    const token = Number(key);
    if (!Number.isInteger(token) || token < 0 || token >= size) {
      const known = size > 0 ? `ids 0 to ${size - 1}` : "its size is not in the model file";
      throw new RbeeError(400, "invalid_request", `logit_bias: token ${key} is not in this model's vocabulary (${known})`, { param: "logit_bias" });
    }
    biasOf(bias).set(token as Token, logit);
  }
  return bias;
}

/**
 * The biases a TokenBias hands the sampler, by token. TokenBias.set skips end-of-generation
 * tokens, so a client's bias on EOS (-100 to write on past it, 100 to stop at once, as llama.cpp's
 * server honours both) would be dropped without a word; written here, it reaches the sampler as
 * any other. node-llama-cpp is pinned; worker/chat-api.test.ts fails should its shape change.
 */
function biasOf(bias: TokenBias): Map<Token, number> {
  const biases = (bias as unknown as { _biases?: unknown })._biases;
  if (!(biases instanceof Map)) throw new Error("node-llama-cpp's TokenBias no longer keeps its biases in _biases: update worker/token-bias.ts");
  return biases as Map<Token, number>;
}

/** Tokens in the model's vocabulary, from its GGUF metadata (0 when the file does not list them). */
function vocabularySize(model: LlamaModel): number {
  const tokens = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } }).tokenizer?.ggml?.tokens;
  return Array.isArray(tokens) ? tokens.length : 0;
}
