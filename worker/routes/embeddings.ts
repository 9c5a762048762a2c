// POST /v1/embeddings: one vector per input string, in OpenAI's list shape.
import { RbeeError } from "../../shared/errors.js";
import { EmbeddingRequest } from "../../shared/openai/embedding-request.js";
import { readJsonBody } from "../../shared/http/json-body.js";
import { parseRequest } from "../../shared/validation.js";
import { clientGoneSignal, nobodyListening, type RouteHandler } from "./route-context.js";

export const embeddings: RouteHandler = async (c, context) => {
  const body = parseRequest(EmbeddingRequest, await readJsonBody(c));
  const inputs = typeof body.input === "string" ? [body.input] : body.input;
  if (body.dimensions !== undefined && body.dimensions !== context.engine.embeddingSize) {
    const expected = `expected ${context.engine.embeddingSize} (this model's embedding size)`;
    throw new RbeeError(400, "invalid_request", `Invalid request body: dimensions: ${expected}, got ${body.dimensions}`, {
      param: "dimensions",
    });
  }
  const signal = clientGoneSignal(c);
  const inputParam = (index: number): string => (typeof body.input === "string" ? "input" : `input[${index}]`);
  const result = await context.engine.embed(inputs, inputParam, signal).catch((error: unknown) => {
    // A client that left needs no answer, and its abort is no failure worth logging.
    if (signal.aborted) return undefined;
    throw error;
  });
  if (result === undefined) return nobodyListening(c);
  return c.json({
    object: "list",
    data: result.vectors.map((vector, index) => ({
      object: "embedding",
      index,
      embedding: body.encoding_format === "base64" ? toBase64Float32(vector) : vector,
    })),
    model: context.modelName,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  });
};

/** OpenAI's base64 encoding of a vector: its float32 values, little-endian, in base64. */
function toBase64Float32(vector: readonly number[]): string {
  const floats = Float32Array.from(vector);
  const bytes = Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
  // Float32Array uses the platform's byte order; every platform llama.cpp runs on is little-endian.
  return bytes.toString("base64");
}
