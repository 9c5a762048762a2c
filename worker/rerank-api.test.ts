// The worker's /v1/rerank on real worker processes: the tiny reranker scores every document, best
// first, the same every time, with top_n, return_documents and usage; bad requests and a model
// that is no reranker get a 400 naming the field at fault.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_RERANK_DOCUMENTS } from "../shared/openai/rerank-request.js";
import { json, MODEL_NAME, post, startWorker, writeTinyModel, type ErrorBody, type RunningWorker, type TinyModel } from "../test/support/running-worker.js";

interface RerankBody {
  object: string;
  model: string;
  results: Array<{ index: number; relevance_score: number; document?: { text: string } }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

const QUERY = "What is a panda?";
const DOCUMENTS = ["hi", "it is a bear", "The giant panda is a bear species endemic to China.", "", "pandas eat bamboo"];

let rerankerModel: TinyModel;
let chatModel: TinyModel;
let reranker: RunningWorker;
let chatWorker: RunningWorker;

beforeAll(async () => {
  [rerankerModel, chatModel] = await Promise.all([writeTinyModel("reranker"), writeTinyModel()]);
  [reranker, chatWorker] = await Promise.all([
    startWorker({ workerId: "wrk_rerank1", modelPath: rerankerModel.path }),
    startWorker({ workerId: "wrk_rerank2", modelPath: chatModel.path }),
  ]);
}, 60_000);

afterAll(async () => {
  await reranker?.kill();
  await chatWorker?.kill();
  await rerankerModel?.remove();
  await chatModel?.remove();
});

async function rerank(body: Record<string, unknown>): Promise<RerankBody> {
  const response = await post(reranker, "/v1/rerank", { model: MODEL_NAME, query: QUERY, documents: DOCUMENTS, ...body });
  expect(response.status).toBe(200);
  return json<RerankBody>(response);
}

async function expectRefused(worker: RunningWorker, body: Record<string, unknown>, param: string, code: string): Promise<ErrorBody["error"]> {
  const response = await post(worker, "/v1/rerank", { model: MODEL_NAME, query: QUERY, documents: DOCUMENTS, ...body });
  expect(response.status, param).toBe(400);
  const { error } = await json<ErrorBody>(response);
  expect(error, param).toMatchObject({ param, code });
  return error;
}

describe("/v1/rerank", () => {
  it("scores every document once, best first, in the Jina/Cohere shape, with usage", async () => {
    const body = await rerank({});
    expect(body).toMatchObject({ object: "list", model: MODEL_NAME });
    expect(body.results.map((result) => result.index).sort()).toEqual([0, 1, 2, 3, 4]);
    const scores = body.results.map((result) => result.relevance_score);
    for (const score of scores) expect(score > 0 && score < 1, String(score)).toBe(true);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // Random weights rank arbitrarily, but not all documents alike.
    expect(new Set(scores).size).toBeGreaterThan(1);
    expect(body.results[0]).not.toHaveProperty("document");
    // Per document: BOS, the query (one token per character), EOS, the document, EOS.
    const tokens = DOCUMENTS.reduce((sum, document) => sum + 1 + QUERY.length + 1 + document.length + 1, 0);
    expect(body.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it("gives the same scores for the same request, and a document the score it gets alone", async () => {
    const first = await rerank({});
    expect(await rerank({})).toEqual(first);
    const best = first.results[0];
    const alone = await rerank({ documents: [DOCUMENTS[best?.index ?? 0]] });
    expect(alone.results).toEqual([{ index: 0, relevance_score: best?.relevance_score }]);
  });

  it("returns the top_n best, and their documents when asked, from strings or {text} objects", async () => {
    const all = await rerank({});
    const top = await rerank({ top_n: 2, return_documents: true, documents: DOCUMENTS.map((text, index) => (index % 2 === 0 ? text : { text })) });
    expect(top.results).toEqual(
      all.results.slice(0, 2).map((result) => ({ ...result, document: { text: DOCUMENTS[result.index] } })),
    );
    // More than there are documents is all of them, as llama.cpp and Cohere answer.
    expect((await rerank({ top_n: 50 })).results).toEqual(all.results);
  });

  it("cuts each document to max_tokens_per_doc tokens before scoring it", async () => {
    const long = `${"bamboo ".repeat(200)}`;
    const cut = await rerank({ documents: [long], max_tokens_per_doc: 10 });
    const prefix = await rerank({ documents: [long.slice(0, 10)] });
    expect(cut.results).toEqual(prefix.results);
    expect(cut.usage.prompt_tokens).toBe(1 + QUERY.length + 1 + 10 + 1);
  });

  it("refuses a missing query, empty, too many or oversized documents, and unsupported fields, naming each", async () => {
    await expectRefused(reranker, { query: undefined }, "query", "invalid_request");
    await expectRefused(reranker, { query: "" }, "query", "invalid_request");
    await expectRefused(reranker, { documents: [] }, "documents", "invalid_request");
    await expectRefused(reranker, { documents: undefined }, "documents", "invalid_request");
    const image = await expectRefused(reranker, { documents: [{ image: "x.png" }] }, "documents[0].text", "invalid_request");
    expect(image.message).toContain('documents[0]: Unrecognized key: "image"');
    const tooMany = await expectRefused(reranker, { documents: Array.from({ length: MAX_RERANK_DOCUMENTS + 1 }, () => "d") }, "documents", "invalid_request");
    expect(tooMany.message).toContain(`at most ${MAX_RERANK_DOCUMENTS}`);
    // The tiny reranker's context is 1,024 tokens.
    const oversized = await expectRefused(reranker, { documents: ["ok", "x".repeat(2000)] }, "documents[1]", "context_length_exceeded");
    expect(oversized.message).toContain("fits 1023 tokens");
    await expectRefused(reranker, { query: "q".repeat(2000) }, "query", "context_length_exceeded");
    await expectRefused(reranker, { top_n: 0 }, "top_n", "invalid_request");
    const rankFields = await expectRefused(reranker, { rank_fields: ["title"] }, "rank_fields", "invalid_request");
    expect(rankFields.message).toContain("not supported");
    await expectRefused(reranker, { max_chunks_per_doc: 2 }, "max_chunks_per_doc", "invalid_request");
  });

  it("refuses a model that is no reranker with model_cannot_rank, naming the model", async () => {
    const error = await expectRefused(chatWorker, {}, "model", "model_cannot_rank");
    expect(error.message).toContain(MODEL_NAME);
    expect(error.message).toContain("not a reranker");
  });

  it("still chats on the reranker's worker, and still ranks after it", async () => {
    const before = await rerank({});
    const chat = await post(reranker, "/v1/chat/completions", { model: MODEL_NAME, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 });
    expect(chat.status).toBe(200);
    expect(await rerank({})).toEqual(before);
  });
});
