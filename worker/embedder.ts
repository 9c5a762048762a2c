// Computes embedding vectors for /v1/embeddings on an embedding context of its own, created on
// the first request so workers that only chat never pay its memory. One input is embedded at a
// time, with the same bounded wait list (and 503 past it) as the generation slots.
import type { LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import { RbeeError } from "../shared/errors.js";
import { SlotQueue } from "./slot-queue.js";

export interface EmbedderOptions {
  /** Tokens one input may have. */
  contextSize: number;
  threads: number;
  maxQueue: number;
  retryAfterSeconds: number;
  onChange: () => void;
}

export interface Embeddings {
  vectors: number[][];
  /** Tokens of all inputs together. */
  promptTokens: number;
}

export class Embedder {
  private context: Promise<LlamaEmbeddingContext> | undefined;
  /** One "slot": the embedding context evaluates one input at a time. */
  private readonly turns: SlotQueue<"context">;

  constructor(
    private readonly model: LlamaModel,
    private readonly options: EmbedderOptions,
  ) {
    this.turns = new SlotQueue(["context"], options);
  }

  /** Requests waiting for their turn. */
  get waiting(): number {
    return this.turns.waiting;
  }

  /** One vector per input, in order; `inputParam` names the field in errors (`input` or `input[2]`). */
  async embed(inputs: readonly string[], inputParam: (index: number) => string, signal?: AbortSignal): Promise<Embeddings> {
    const lease = await this.turns.acquire(signal);
    try {
      const context = await this.getContext();
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
        vectors.push([...(await context.getEmbeddingFor(input)).vector]);
      }
      return { vectors, promptTokens: lengths.reduce((sum, tokens) => sum + tokens, 0) };
    } finally {
      lease.release();
    }
  }

  /** Rejects waiting and later requests with `reason`; the context goes with the model. */
  close(reason: unknown): void {
    this.turns.close(reason);
  }

  private getContext(): Promise<LlamaEmbeddingContext> {
    if (this.context) return this.context;
    const creating = this.model.createEmbeddingContext({ contextSize: this.options.contextSize, threads: this.options.threads });
    // A failed creation (out of memory) is retried by the next request rather than remembered.
    creating.catch(() => {
      if (this.context === creating) this.context = undefined;
    });
    this.context = creating;
    return creating;
  }
}
