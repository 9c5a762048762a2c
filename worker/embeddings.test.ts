// The worker's /v1/embeddings on the real process: vectors of the model's embedding size for a
// string or an array of strings, in OpenAI's list shape, and errors naming the input at fault.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  json,
  MODEL_NAME,
  post,
  startWorker,
  TINY_EMBEDDING_SIZE,
  writeTinyModel,
  type ErrorBody,
  type RunningWorker,
  type TinyModel,
} from "../test/support/running-worker.js";

interface EmbeddingsBody {
  object: string;
  model: string;
  data: Array<{ object: string; index: number; embedding: number[] }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

let model: TinyModel;
let worker: RunningWorker;

beforeAll(async () => {
  model = await writeTinyModel();
  worker = await startWorker({ workerId: "wrk_embed1", modelPath: model.path });
});

afterAll(async () => {
  await worker?.kill();
  await model?.remove();
});

async function embed(input: unknown): Promise<EmbeddingsBody> {
  const response = await post(worker, "/v1/embeddings", { model: MODEL_NAME, input });
  expect(response.status).toBe(200);
  return json<EmbeddingsBody>(response);
}

describe("/v1/embeddings", () => {
  it("embeds a string as one vector of the model's embedding size, with usage", async () => {
    const body = await embed("hello");
    expect(body).toMatchObject({ object: "list", model: MODEL_NAME, data: [{ object: "embedding", index: 0 }] });
    const vector = body.data[0]?.embedding ?? [];
    expect(vector).toHaveLength(TINY_EMBEDDING_SIZE);
    expect(vector.every(Number.isFinite)).toBe(true);
    expect(vector.some((value) => value !== 0)).toBe(true);
    // Unit length, as OpenAI's are: a dot product is the cosine similarity.
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    // BOS and one token per character.
    expect(body.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
  });

  it("embeds an array in order, giving each string the vector it gets alone", async () => {
    const body = await embed(["hello", "a rather different sentence", "hello"]);
    expect(body.data.map((item) => item.index)).toEqual([0, 1, 2]);
    for (const item of body.data) expect(item.embedding).toHaveLength(TINY_EMBEDDING_SIZE);
    const alone = (await embed("hello")).data[0]?.embedding;
    expect(body.data[0]?.embedding).toEqual(alone);
    expect(body.data[2]?.embedding).toEqual(alone);
    expect(body.data[1]?.embedding).not.toEqual(alone);
    expect(body.usage.prompt_tokens).toBe(6 + 28 + 6);
  });

  it("encodes vectors as base64 float32 when asked, as the official SDKs ask by default", async () => {
    const response = await post(worker, "/v1/embeddings", { model: MODEL_NAME, input: "hello", encoding_format: "base64" });
    const encoded = (await json<{ data: Array<{ embedding: string }> }>(response)).data[0]?.embedding ?? "";
    const bytes = Buffer.from(encoded, "base64");
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    const floats = (await embed("hello")).data[0]?.embedding ?? [];
    expect(decoded).toHaveLength(TINY_EMBEDDING_SIZE);
    expect(decoded).toEqual(floats.map((value) => Math.fround(value)));
  });

  it("refuses empty, missing and oversized inputs with 400 naming the input at fault", async () => {
    const cases: Array<[unknown, string, string]> = [
      ["", "input", "invalid_request"],
      [["ok", ""], "input[1]", "invalid_request"],
      [[], "input", "invalid_request"],
      [["ok", "x".repeat(5000)], "input[1]", "context_length_exceeded"],
    ];
    for (const [input, param, code] of cases) {
      const response = await post(worker, "/v1/embeddings", { model: MODEL_NAME, input });
      expect(response.status, param).toBe(400);
      expect((await json<ErrorBody>(response)).error, param).toMatchObject({ param, code });
    }
    const wrongSize = await post(worker, "/v1/embeddings", { model: MODEL_NAME, input: "hi", dimensions: 32 });
    expect((await json<ErrorBody>(wrongSize)).error.message).toContain("dimensions: expected 64");
  });

  it("answers 405 for GET", async () => {
    const response = await fetch(`${worker.url}/v1/embeddings`, { headers: { authorization: worker.authorization } });
    expect(response.status).toBe(405);
    expect((await json<ErrorBody>(response)).error.code).toBe("method_not_allowed");
  });
});
