// The OpenAI embeddings request as rbee accepts it: validated by the queen before routing and by
// the worker before embedding.
import { z } from "zod";

export const EmbeddingRequest = z.looseObject({
  model: z.string().min(1).max(256),
  // OpenAI refuses empty strings and more than 2048 inputs; token-id inputs are not supported here.
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(2048)]),
  encoding_format: z.literal("float", { error: 'only "float" is supported' }).optional(),
  dimensions: z.number().int().positive().optional(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;
