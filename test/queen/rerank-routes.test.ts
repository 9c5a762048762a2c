// The queen's /v1/rerank and its llama.cpp alias /v1/reranking before any worker: inference keys
// reach them, bad requests are refused by field before placement, and an unknown model is a 404.
// Ranking itself, through hive and worker, is test/node/rerank-end-to-end.test.ts's part.
import { describe, expect, it } from "vitest";
import { scopeForPath } from "../../queen/auth/route-scope.js";
import { MAX_RERANK_DOCUMENTS } from "../../shared/openai/rerank-request.js";
import { call, createKey, errorOf } from "./admin-api.js";

const PATHS = ["/v1/rerank", "/v1/reranking"] as const;
const VALID = { model: "no-such-rerank-model", query: "q", documents: ["a", "b"] };

describe("queen /v1/rerank", () => {
  it("is an inference route under both names: an inference key gets the route's own 404 for an unknown model", async () => {
    const { key } = await createKey(["inference"]);
    for (const path of PATHS) {
      expect(scopeForPath(path), path).toBe("inference");
      const response = await call("POST", path, { key, body: VALID });
      expect(response.status, path).toBe(404);
      expect(await errorOf(response), path).toMatchObject({ code: "model_not_found", param: "model" });
    }
  });

  it("refuses a bad request by field before placing it", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ query: undefined }, "query"],
      [{ query: "" }, "query"],
      [{ documents: [] }, "documents"],
      [{ documents: "one string" }, "documents"],
      [{ documents: Array.from({ length: MAX_RERANK_DOCUMENTS + 1 }, () => "d") }, "documents"],
      [{ documents: ["a", { text: "b", image: "c.png" }] }, "documents[1]"],
      [{ top_n: -1 }, "top_n"],
      [{ return_documents: "yes" }, "return_documents"],
      [{ rank_fields: ["title"] }, "rank_fields"],
      [{ max_chunks_per_doc: 3 }, "max_chunks_per_doc"],
    ];
    for (const [change, param] of cases) {
      const response = await call("POST", "/v1/rerank", { body: { ...VALID, ...change } });
      expect(response.status, param).toBe(400);
      expect(await errorOf(response), param).toMatchObject({ code: "invalid_request", param });
    }
  });
});
