// POST /v1/rerank: scores each document against the query with a reranker model and answers in
// the Jina/Cohere shape llama.cpp's server uses — results sorted by relevance, best first, each
// with the index of its document — with usage. A model without a ranking head is refused by name.
import { RbeeError } from "../../shared/errors.js";
import { readJsonBody } from "../../shared/http/json-body.js";
import { documentTexts, RerankRequest } from "../../shared/openai/rerank-request.js";
import { parseRequest } from "../../shared/validation.js";
import { clientGoneSignal, nobodyListening, type RouteHandler } from "./route-context.js";

export const rerank: RouteHandler = async (c, context) => {
  const body = parseRequest(RerankRequest, await readJsonBody(c));
  if (!context.engine.canRank) {
    throw new RbeeError(
      400,
      "model_cannot_rank",
      `The model ${context.modelName} is not a reranker (its GGUF has no ranking head, cls.output.weight or cls.weight); use a reranker model`,
      { param: "model" },
    );
  }
  const documents = documentTexts(body);
  const signal = clientGoneSignal(c);
  const input = { query: body.query, documents, maxTokensPerDocument: body.max_tokens_per_doc ?? undefined };
  const ranking = await context.engine.rank(input, signal).catch((error: unknown) => {
    // A client that left needs no answer, and its abort is no failure worth logging.
    if (signal.aborted) return undefined;
    throw error;
  });
  if (ranking === undefined) return nobodyListening(c);
  const results = ranking.scores
    .map((score, index) => ({ index, relevance_score: score }))
    // Best first; equal scores keep the documents' order, so the same request gives the same answer.
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
    .slice(0, body.top_n ?? documents.length)
    .map((result) => (body.return_documents ? { ...result, document: { text: documents[result.index] ?? "" } } : result));
  return c.json({
    object: "list",
    model: context.modelName,
    results,
    usage: { prompt_tokens: ranking.promptTokens, total_tokens: ranking.promptTokens },
  });
};
