// POST /v1/rerank (and llama.cpp's alias /v1/reranking): an inference route like embeddings —
// validated, placed on a worker of the model, relayed, metered — in the Jina/Cohere rerank shape.
// The worker decides whether its model can rank (a reranker GGUF) and says so by name if not.
import { RerankRequest } from "../../shared/openai/rerank-request.js";
import { inferenceRoute } from "./inference.js";

export const rerankRoutes = inferenceRoute(RerankRequest, "/v1/rerank");
