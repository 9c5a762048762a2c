// The OpenAI embeddings request as rbee accepts it: validated by the queen before routing and by
// the worker before embedding. Fields outside OpenAI's API are stripped, and named by the queen in
// a header (ignored-fields.ts).
import { z } from "zod";

/**
 * Token ids (`[1, 2, 3]`, `[[1, 2], [3]]`) are another tokenizer's: OpenAI's ids mean nothing to
 * rbee's models. Refused in words that say what to send, as LangChain's OpenAIEmbeddings sends them
 * by default (zod alone said "expected string, received array" of each).
 */
const TOKEN_IDS_REFUSED =
  "token ids are not supported: rbee's models each have their own vocabulary, so send the text itself (LangChain's OpenAIEmbeddings sends token ids unless given check_embedding_ctx_length=False)";

function isTokenIds(input: unknown): boolean {
  const ids = (value: unknown) => Array.isArray(value) && value.length > 0 && value.every((id) => typeof id === "number");
  return Array.isArray(input) && input.length > 0 && (ids(input) || input.every(ids));
}

export const EmbeddingRequest = z.object({
  model: z.string().min(1).max(256),
  // OpenAI refuses empty strings and more than 2048 inputs.
  input: z
    .unknown()
    .refine((input) => !isTokenIds(input), TOKEN_IDS_REFUSED)
    .pipe(z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(2048)])),
  // The official SDKs ask for base64 (little-endian float32) unless told otherwise.
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  /** An end-user id for the provider's abuse monitoring; it never changes the answer. */
  user: z.string().nullish(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;
