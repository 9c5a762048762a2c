// Computes embedding vectors for /v1/embeddings on an embedding context of its own, created on
// the first request so workers that only chat never pay its memory. One input is embedded at a
// time, with the same bounded wait list (and 503 past it) as the generation slots.
import type { LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import { RbeeError } from "../shared/errors.js";
import { ExclusiveContext, type ExclusiveContextOptions } from "./exclusive-context.js";

export interface Embeddings {
  vectors: number[][];
  /** Tokens of all inputs together. */
  promptTokens: number;
}

export class Embedder {
  private readonly context: ExclusiveContext<LlamaEmbeddingContext>;

  constructor(
    model: LlamaModel,
    private readonly options: ExclusiveContextOptions,
  ) {
    this.context = new ExclusiveContext(() => model.createEmbeddingContext({ contextSize: options.contextSize, threads: options.threads }), options);
  }

  /** Requests waiting for their turn. */
  get waiting(): number {
    return this.context.waiting;
  }

  /** One vector per input, in order; `inputParam` names the field in errors (`input` or `input[2]`). */
  embed(inputs: readonly string[], inputParam: (index: number) => string, signal?: AbortSignal): Promise<Embeddings> {
    return this.context.use(signal, async (context) => {
      const lengths = inputs.map((input) => context.calculateInputLength(input));
      // Checked for every input before embedding any, so a bad last input costs no work.
      lengths.forEach((tokens, index) => {
        if (tokens <= this.options.contextSize) return;
        throw new RbeeError(
          400,
          "context_length_exceeded",
          `This model's embedding context fits ${this.options.contextSize} tokens, but the input has ${tokens}`,
          { param: inputParam(index) },
        );
      });
      const vectors: number[][] = [];
      for (const input of inputs) {
        signal?.throwIfAborted();
        vectors.push(unitLength((await context.getEmbeddingFor(input)).vector));
      }
      return { vectors, promptTokens: lengths.reduce((sum, tokens) => sum + tokens, 0) };
    });
  }

  /** Rejects waiting and later requests with `reason`; the context goes with the model. */
  close(reason: unknown): void {
    this.context.close(reason);
  }
}

/**
 * `vector` scaled to length 1, as OpenAI's embeddings and llama.cpp's own server give them:
 * clients take a dot product for the cosine similarity. llama.cpp's pooled vector has whatever
 * length the model gives it (~8 for the tiny model). A zero vector stays as it is.
 */
function unitLength(vector: readonly number[]): number[] {
  const length = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return length === 0 ? [...vector] : vector.map((value) => value / length);
}
