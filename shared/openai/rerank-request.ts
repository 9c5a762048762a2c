// The rerank request (POST /v1/rerank) in the Jina/Cohere shape that llama.cpp's server and
// LocalAI serve: validated by the queen before routing and by the worker before ranking.
import { z } from "zod";

/** Most documents one request may rank (Cohere's recommended bound). */
export const MAX_RERANK_DOCUMENTS = 1000;

/** Fields of Cohere's rerank API that rbee does not do: refused by name rather than ignored. */
const notSupported = (why: string) => z.undefined({ error: `not supported: ${why}` }).optional();

export const RerankRequest = z.looseObject({
  model: z.string().min(1).max(256),
  query: z.string().min(1),
  // Jina and Cohere take plain strings or {text} objects; an unknown key (an image) is refused, not dropped.
  documents: z
    .array(z.union([z.string(), z.strictObject({ text: z.string() })]))
    .min(1, "must hold at least one document")
    .max(MAX_RERANK_DOCUMENTS, `must hold at most ${MAX_RERANK_DOCUMENTS} documents`),
  /** How many of the best results to return; all of them by default, and at most all of them. */
  top_n: z.number().int().positive().nullish(),
  /** Echo each result's document as `document: {text}` (Cohere's default: false). */
  return_documents: z.boolean().nullish(),
  /** Cohere v2: each document is cut to its first this many tokens before ranking. */
  max_tokens_per_doc: z.number().int().positive().nullish(),
  rank_fields: notSupported("documents are ranked by their text"),
  max_chunks_per_doc: notSupported("documents are ranked whole; use max_tokens_per_doc to cut them"),
});
export type RerankRequest = z.infer<typeof RerankRequest>;

/** The text of each document, whether sent as a string or as {text}. */
export function documentTexts(request: RerankRequest): string[] {
  return request.documents.map((document) => (typeof document === "string" ? document : document.text));
}
