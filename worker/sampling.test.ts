// Sampling on the real worker process with the tiny model: seeds reproduce text at temperature 1
// (on any slot), top_k/min_p/penalties reach llama.cpp, and out-of-range fields are refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chatText,
  completionText,
  json,
  MODEL_NAME,
  post,
  startWorker,
  writeTinyModel,
  type ErrorBody,
  type RunningWorker,
  type TinyModel,
} from "../test/support/running-worker.js";

let model: TinyModel;
let worker: RunningWorker;

beforeAll(async () => {
  model = await writeTinyModel();
  // Two slots, so requests that run side by side show each slot samples on its own.
  worker = await startWorker({ workerId: "wrk_sampling1", modelPath: model.path, extraArgs: ["--parallel", "2"] });
});

afterAll(async () => {
  await worker?.kill();
  await model?.remove();
});

function chat(overrides: Record<string, unknown>): Record<string, unknown> {
  return { model: MODEL_NAME, messages: [{ role: "user", content: "Tell me a story" }], max_tokens: 48, ...overrides };
}

function prompt(overrides: Record<string, unknown>): Record<string, unknown> {
  return { model: MODEL_NAME, prompt: "Once upon a time", max_tokens: 48, ...overrides };
}

describe("sampling", () => {
  it("gives the same chat text for the same seed at temperature 1, and different text for another seed", async () => {
    const first = await chatText(worker, chat({ temperature: 1, seed: 1234 }));
    const again = await chatText(worker, chat({ temperature: 1, seed: 1234 }));
    const other = await chatText(worker, chat({ temperature: 1, seed: 4321 }));
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it("holds every integer to a fixed seed, -1 and 2^32 - 1 too (llama.cpp's 0xFFFFFFFF means a random one)", async () => {
    for (const seed of [-1, 2 ** 32 - 1, 2 ** 40 + 3]) {
      expect(await chatText(worker, chat({ temperature: 1, seed })), `seed ${seed}`).toBe(await chatText(worker, chat({ temperature: 1, seed })));
    }
  });

  it("gives the same completion for the same seed even when two slots generate it side by side", async () => {
    const body = prompt({ temperature: 1, seed: 99 });
    const [left, right] = await Promise.all([completionText(worker, body), completionText(worker, body)]);
    expect(right).toBe(left);
    expect(await completionText(worker, prompt({ temperature: 1, seed: 100 }))).not.toBe(left);
  });

  it("draws each request without a seed on its own, even four in the same second", async () => {
    const texts = await Promise.all([1, 2, 3, 4].map(() => chatText(worker, chat({ temperature: 1 }))));
    expect(new Set(texts).size).toBe(4);
  });

  it("samples only the most likely token with top_k 1 or min_p 1, even at temperature 2", async () => {
    const greedy = await completionText(worker, prompt({ temperature: 0 }));
    expect(await completionText(worker, prompt({ temperature: 2, top_k: 1, seed: 7 }))).toBe(greedy);
    expect(await completionText(worker, prompt({ temperature: 2, min_p: 1, seed: 7 }))).toBe(greedy);
  });

  it("changes greedy text when a repeat, frequency or presence penalty is set, and not when they are neutral", async () => {
    const plain = await chatText(worker, chat({ temperature: 0, max_tokens: 120 }));
    expect(await chatText(worker, chat({ temperature: 0, max_tokens: 120, frequency_penalty: 0, presence_penalty: 0, repeat_penalty: 1 }))).toBe(plain);
    expect(await chatText(worker, chat({ temperature: 0, max_tokens: 120, repeat_penalty: 1.5 }))).not.toBe(plain);
    expect(await chatText(worker, chat({ temperature: 0, max_tokens: 120, frequency_penalty: 2 }))).not.toBe(plain);
    expect(await chatText(worker, chat({ temperature: 0, max_tokens: 120, presence_penalty: 2 }))).not.toBe(plain);
  });

  it("refuses sampling fields outside OpenAI's ranges with 400 naming the field", async () => {
    const cases: Array<[string, unknown]> = [
      ["temperature", 2.5],
      ["top_p", 0],
      ["top_k", -1],
      ["min_p", 1.5],
      ["frequency_penalty", 2.5],
      ["presence_penalty", -3],
      ["repeat_penalty", 0],
      ["seed", 1.5],
      ["max_completion_tokens", 0],
    ];
    for (const [field, value] of cases) {
      const response = await post(worker, "/v1/chat/completions", chat({ [field]: value }));
      expect(response.status, field).toBe(400);
      expect((await json<ErrorBody>(response)).error, field).toMatchObject({ code: "invalid_request", param: field });
    }
    const response = await post(worker, "/v1/completions", prompt({ stop: ["a", "b", "c", "d", "e"] }));
    expect((await json<ErrorBody>(response)).error).toMatchObject({ param: "stop" });
  });
});
