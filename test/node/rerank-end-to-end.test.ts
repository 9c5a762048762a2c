// Reranking for real: a client → queen (workerd) → hive process → worker process running the tiny
// reranker GGUF (llama.cpp rank pooling) and back, on /v1/rerank and llama.cpp's alias
// /v1/reranking, metered for the key; bad requests and a chat model are refused by name.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud, TINY_MODEL, TINY_RERANKER, waitUntil } from "./local-cloud.js";

interface RerankBody {
  object: string;
  model: string;
  results: Array<{ index: number; relevance_score: number; document?: { text: string } }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

interface ErrorBody {
  error: { message: string; param: string | null; code: string | null };
}

const HIVE = "rerank-hive";
const REQUEST = {
  model: TINY_RERANKER,
  query: "Which animal eats bamboo?",
  documents: ["The giant panda eats bamboo.", "Paris is in France.", { text: "Koalas eat eucalyptus." }, "bamboo"],
};

describe("end to end: /v1/rerank through queen, hive and a reranker worker", () => {
  let cloud: LocalCloud;
  let key = "";
  let keyId = "";

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: HIVE });
    const reranker = await cloud.client.spawnWorker({ hive: HIVE, model: TINY_RERANKER, source: cloud.rerankerSource });
    const chat = await cloud.client.spawnWorker({ hive: HIVE, model: TINY_MODEL, source: cloud.modelSource });
    await Promise.all([cloud.client.waitForWorkerReady(reranker.id, 60_000), cloud.client.waitForWorkerReady(chat.id, 60_000)]);
    const created = await call("POST", "/v1/keys", { name: "rerank client", scopes: ["inference"] }, cloud.apiKey);
    ({ id: keyId, key } = (await created.json()) as { id: string; key: string });
  }, 120_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  function call(method: string, path: string, body: unknown, apiKey = key): Promise<Response> {
    return fetch(`${cloud.queen.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function rerank(path: string, body: Record<string, unknown>): Promise<RerankBody> {
    const response = await call("POST", path, { ...REQUEST, ...body });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as RerankBody;
  }

  it("ranks every document, best first, the same on both paths, with top_n, return_documents and metered usage", async () => {
    const all = await rerank("/v1/rerank", {});
    expect(all).toMatchObject({ object: "list", model: TINY_RERANKER });
    expect(all.results.map((result) => result.index).sort()).toEqual([0, 1, 2, 3]);
    const scores = all.results.map((result) => result.relevance_score);
    for (const score of scores) expect(score > 0 && score < 1, String(score)).toBe(true);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(all.usage.prompt_tokens).toBeGreaterThan(0);
    expect(all.usage.total_tokens).toBe(all.usage.prompt_tokens);

    const alias = await rerank("/v1/reranking", {});
    expect(alias).toEqual(all);

    const texts = REQUEST.documents.map((document) => (typeof document === "string" ? document : document.text));
    const top = await rerank("/v1/rerank", { top_n: 2, return_documents: true });
    expect(top.results).toEqual(all.results.slice(0, 2).map((result) => ({ ...result, document: { text: texts[result.index] } })));

    const expected = { requests: 3, prompt_tokens: all.usage.prompt_tokens + alias.usage.prompt_tokens + top.usage.prompt_tokens, completion_tokens: 0 };
    let row: unknown;
    await waitUntil(
      async () => {
        const usage = (await (await call("GET", `/v1/usage?key_id=${keyId}`, undefined, cloud.apiKey)).json()) as { data: Array<{ requests: number }> };
        row = usage.data[0];
        return usage.data[0]?.requests === expected.requests;
      },
      10_000,
      "the key's rerank requests to be counted",
    );
    expect(row).toMatchObject(expected);
  });

  it("refuses bad requests at the queen by field, and a chat model at its worker as model_cannot_rank", async () => {
    for (const [change, param] of [
      [{ documents: [] }, "documents"],
      [{ query: undefined }, "query"],
      [{ documents: Array.from({ length: 1001 }, () => "d") }, "documents"],
    ] as const) {
      const response = await call("POST", "/v1/rerank", { ...REQUEST, ...change });
      expect(response.status, param).toBe(400);
      expect(((await response.json()) as ErrorBody).error, param).toMatchObject({ param, code: "invalid_request" });
    }
    const chatModel = await call("POST", "/v1/rerank", { ...REQUEST, model: TINY_MODEL });
    expect(chatModel.status).toBe(400);
    const { error } = (await chatModel.json()) as ErrorBody;
    expect(error).toMatchObject({ param: "model", code: "model_cannot_rank" });
    expect(error.message).toContain(TINY_MODEL);
  });
});
