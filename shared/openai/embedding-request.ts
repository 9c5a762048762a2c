// The OpenAI embeddings request as rbee accepts it: validated by the queen before routing and by
// the worker before embedding.
import { z } from "zod";

export const EmbeddingRequest = z.looseObject({
  model: z.string().min(1).max(256),
  // OpenAI refuses empty strings and more than 2048 inputs; token-id inputs are not supported here.
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(2048)]),
  // The official SDKs ask for base64 (little-endian float32) unless told otherwise.
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;
