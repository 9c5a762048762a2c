// Scores documents against a query for /v1/rerank on a ranking context of its own (node-llama-cpp's
// LlamaRankingContext), created on the first request. Only a reranker GGUF can rank — one with a
// classification head, which node-llama-cpp detects (GgufInsights.supportsRanking) — so the engine
// asks `canRank` before using this. One document is scored at a time, with the same bounded wait
// list (and 503 past it) as the generation slots.
import type { LlamaModel, LlamaRankingContext, Token } from "node-llama-cpp";
import { RbeeError } from "../shared/errors.js";
import { ExclusiveContext, type ExclusiveContextOptions } from "./exclusive-context.js";

export interface RankInput {
  query: string;
  documents: readonly string[];
  /** Each document is cut to its first this many tokens before scoring; undefined keeps it whole. */
  maxTokensPerDocument: number | undefined;
}

export interface Ranking {
  /** One relevance score per document, in the documents' order, each in 0..1. */
  scores: number[];
  /** Tokens evaluated: every document with its query and separators. */
  promptTokens: number;
}

export class Ranker {
  private readonly context: ExclusiveContext<LlamaRankingContext>;

  constructor(
    private readonly model: LlamaModel,
    private readonly options: ExclusiveContextOptions,
  ) {
    // One batch holds a whole input: encoder rerankers (BERT-style, non-causal) cannot score one split across batches.
    const create = () => model.createRankingContext({ contextSize: options.contextSize, batchSize: options.contextSize, threads: options.threads });
    this.context = new ExclusiveContext(create, options);
  }

  /** Requests waiting for their turn. */
  get waiting(): number {
    return this.context.waiting;
  }

  /** Whether the model has a ranking head; detected from the GGUF, not told by a flag. */
  get canRank(): boolean {
    return this.model.fileInsights.supportsRanking;
  }

  /** A score per document; a document (or query) that cannot fit the context is refused by name before any is scored. */
  rank({ query, documents, maxTokensPerDocument }: RankInput, signal?: AbortSignal): Promise<Ranking> {
    return this.context.use(signal, async (context) => {
      const inputs = documents.map((document) => this.cut(document, maxTokensPerDocument));
      // node-llama-cpp ranks an input only if it is shorter than the context.
      const fits = this.options.contextSize - 1;
      const refuse = (tokens: number, param: string, what: string): never => {
        throw new RbeeError(400, "context_length_exceeded", `This model's ranking context fits ${fits} tokens of query and document together, but ${what} has ${tokens}`, { param });
      };
      const queryAlone = context.calculateInputLength(query, "");
      if (queryAlone > fits) refuse(queryAlone, "query", "the query alone");
      const lengths = inputs.map((input) => context.calculateInputLength(query, input));
      lengths.forEach((tokens, index) => {
        if (tokens > fits) refuse(tokens, `documents[${index}]`, `the query with documents[${index}]`);
      });
      const scores: number[] = [];
      for (const input of inputs) {
        signal?.throwIfAborted();
        scores.push(await context.rank(query, input));
      }
      return { scores, promptTokens: lengths.reduce((sum, tokens) => sum + tokens, 0) };
    });
  }

  /** Rejects waiting and later requests with `reason`; the context goes with the model. */
  close(reason: unknown): void {
    this.context.close(reason);
  }

  /** The document, or its first `maxTokens` tokens (tokenized as the ranking context tokenizes text). */
  private cut(document: string, maxTokens: number | undefined): string | Token[] {
    if (maxTokens === undefined) return document;
    const tokens = this.model.tokenize(document, false, "trimLeadingSpace");
    return tokens.length <= maxTokens ? document : tokens.slice(0, maxTokens);
  }
}
