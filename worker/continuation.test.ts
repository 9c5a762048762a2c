// Continuing a partial answer, as the queen does when a worker dies mid-stream: a chat whose last
// message is the assistant's is continued from that text (a prefill) and only the new text comes
// back; a legacy completion is continued by appending the text to the prompt. With greedy
// sampling the pieces must join into exactly the answer one worker would have given in one go.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chatText,
  completionText,
  greedyChat,
  MODEL_NAME,
  parseSse,
  post,
  startWorker,
  writeTinyModel,
  type ChatChunkBody,
  type RunningWorker,
  type TinyModel,
} from "../test/support/running-worker.js";

/** Tokens of the whole answer, and the points where a worker "dies" after that many tokens. */
const FULL_TOKENS = 40;
const CUT_AFTER_TOKENS = [1, 7, 23, 39];

let model: TinyModel;
let worker: RunningWorker;

beforeAll(async () => {
  model = await writeTinyModel();
  worker = await startWorker({ workerId: "wrk_continue1", modelPath: model.path });
});

afterAll(async () => {
  await worker?.kill();
  await model?.remove();
});

const MESSAGES = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Tell me a story" },
];

describe("continuing a chat answer from its first part", () => {
  it("joins the first part and its continuation into exactly the whole greedy answer", async () => {
    const full = await chatText(worker, greedyChat({ messages: MESSAGES, max_tokens: FULL_TOKENS }));
    expect(full.length).toBeGreaterThan(0);
    for (const cut of CUT_AFTER_TOKENS) {
      const first = await chatText(worker, greedyChat({ messages: MESSAGES, max_tokens: cut }));
      expect(full.startsWith(first), `the first ${cut} token(s) start the whole answer`).toBe(true);
      const rest = await chatText(worker, greedyChat({ messages: [...MESSAGES, { role: "assistant", content: first }], max_tokens: FULL_TOKENS - cut }));
      expect(first + rest, `cut after ${cut} token(s)`).toBe(full);
    }
  });

  it("streams only the new text of a continued answer", async () => {
    const full = await chatText(worker, greedyChat({ messages: MESSAGES, max_tokens: FULL_TOKENS }));
    const first = await chatText(worker, greedyChat({ messages: MESSAGES, max_tokens: 10 }));
    const response = await post(worker, "/v1/chat/completions", greedyChat({ messages: [...MESSAGES, { role: "assistant", content: first }], max_tokens: FULL_TOKENS - 10, stream: true }));
    expect(response.status).toBe(200);
    const chunks = parseSse(await response.text());
    expect(chunks.at(-1)).toBe("[DONE]");
    const deltas = chunks.slice(0, -1).map((chunk) => JSON.parse(chunk) as ChatChunkBody);
    expect(deltas[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const streamed = deltas.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(first + streamed).toBe(full);
    expect(deltas.at(-1)?.choices[0]?.finish_reason).toBe("length");
  });
});

describe("continuing a legacy completion", () => {
  it("joins the first part and the completion of prompt + first part into exactly the whole greedy text", async () => {
    const prompt = "Once upon a time";
    const request = (text: string, maxTokens: number) => ({ model: MODEL_NAME, prompt: text, max_tokens: maxTokens, temperature: 0 });
    const full = await completionText(worker, request(prompt, FULL_TOKENS));
    for (const cut of CUT_AFTER_TOKENS) {
      const first = await completionText(worker, request(prompt, cut));
      const rest = await completionText(worker, request(prompt + first, FULL_TOKENS - cut));
      expect(first + rest, `cut after ${cut} token(s)`).toBe(full);
    }
  });
});
