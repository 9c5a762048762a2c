// The OpenAI embeddings request as rbee accepts it: validated by the queen before routing and by
// the worker before embedding. Fields outside OpenAI's API are stripped, and named by the queen in
// a header (ignored-fields.ts).
import { z } from "zod";

export const EmbeddingRequest = z.object({
  model: z.string().min(1).max(256),
  // OpenAI refuses empty strings and more than 2048 inputs; token-id inputs are not supported here.
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(2048)]),
  // The official SDKs ask for base64 (little-endian float32) unless told otherwise.
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  /** An end-user id for the provider's abuse monitoring; it never changes the answer. */
  user: z.string().nullish(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;
