// The worker's legacy completions API (/v1/completions), run as a real process on the tiny model:
// response and stream shapes, usage, defaults, errors, special tokens in the prompt, freeing the
// slot when a client leaves, and continuing a partial text by sending prompt + text, marked as the
// answer so far, as the queen's mid-stream failover does.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PROMPT_TOKENS_HEADER } from "../shared/openai/inference-headers.js";
import {
  completionText,
  health,
  json,
  jsonHeaders,
  MODEL_NAME,
  parseSse,
  post,
  startWorker,
  writeTinyModel,
  type ErrorBody,
  type RunningWorker,
  type TextCompletionBody,
  type TinyModel,
} from "../test/support/running-worker.js";

// BOS, then one token per character: "Once upon a time" is 16 characters.
const PROMPT = "Once upon a time";
const PROMPT_TOKENS = 17;

let model: TinyModel;
let worker: RunningWorker;

beforeAll(async () => {
  model = await writeTinyModel();
  worker = await startWorker({ workerId: "wrk_completions1", modelPath: model.path });
});

afterAll(async () => {
  await worker?.kill();
  await model?.remove();
});

function greedy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL_NAME, prompt: PROMPT, temperature: 0, ...overrides };
}

describe("/v1/completions", () => {
  it("continues the prompt as a text_completion with usage, stopping at OpenAI's default 16 tokens", async () => {
    const response = await post(worker, "/v1/completions", greedy());
    expect(response.status).toBe(200);
    const body = await json<TextCompletionBody>(response);
    expect(body).toMatchObject({
      object: "text_completion",
      model: MODEL_NAME,
      choices: [{ index: 0, finish_reason: "length", logprobs: null }],
      usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: 16, total_tokens: PROMPT_TOKENS + 16 },
    });
    expect(body.id).toMatch(/^cmpl-/);
    expect(body.choices[0]?.text.length).toBeGreaterThan(0);
  });

  it("takes the prompt as an array of one string too", async () => {
    const fromString = await completionText(worker, greedy({ max_tokens: 20 }));
    expect(await completionText(worker, greedy({ max_tokens: 20, prompt: [PROMPT] }))).toBe(fromString);
  });

  it("reads special tokens spelled in the prompt as those tokens, as llama.cpp's server does, and a spelled BOS as the one BOS", async () => {
    const usageOf = async (prompt: string) => (await json<TextCompletionBody>(await post(worker, "/v1/completions", greedy({ prompt, max_tokens: 1 })))).usage;
    // BOS, <|im_start|> as one token, then "user\n" (5) and "Hi" (2); as text <|im_start|> would be 12.
    expect((await usageOf("<|im_start|>user\nHi"))?.prompt_tokens).toBe(9);
    // An editor's FIM template may start with the model's BOS: it is not doubled.
    expect((await usageOf(`<s>${PROMPT}`))?.prompt_tokens).toBe(PROMPT_TOKENS);
    expect(await completionText(worker, greedy({ prompt: `<s>${PROMPT}`, max_tokens: 20 }))).toBe(await completionText(worker, greedy({ max_tokens: 20 })));
  });

  it("streams exactly the text it returns without streaming, then a finish chunk, usage and [DONE]", async () => {
    const expected = await completionText(worker, greedy({ max_tokens: 40 }));
    const response = await post(worker, "/v1/completions", greedy({ max_tokens: 40, stream: true, stream_options: { include_usage: true } }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get(PROMPT_TOKENS_HEADER)).toBe(String(PROMPT_TOKENS));
    const events = parseSse(await response.text());

    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as TextCompletionBody);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "text_completion", id: chunks[0]?.id, model: MODEL_NAME });
    }
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS, completion_tokens: 40, total_tokens: PROMPT_TOKENS + 40 });
    expect(chunks.at(-2)?.choices[0]).toMatchObject({ text: "", finish_reason: "length" });
    const streamed = chunks.map((chunk) => chunk.choices[0]?.text ?? "").join("");
    expect(streamed).toBe(expected);
  });

  it("ends the text before a stop string, with finish_reason stop", async () => {
    const text = await completionText(worker, greedy({ max_tokens: 40 }));
    const stop = text.slice(20, 23);
    const body = await json<TextCompletionBody>(await post(worker, "/v1/completions", greedy({ max_tokens: 40, stop })));
    expect(body.choices[0]).toMatchObject({ text: text.slice(0, text.indexOf(stop)), finish_reason: "stop", stop_reason: stop });
  });

  it("rejects a missing prompt, several prompts and unsupported options with 400 naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ model: MODEL_NAME }, "prompt"],
      [greedy({ prompt: ["one", "two"] }), "prompt"],
      [greedy({ echo: true }), "echo"],
      [greedy({ n: 2 }), "n"],
      [greedy({ max_tokens: 0 }), "max_tokens"],
      // A continuation's answer cannot be longer than the prompt that holds it.
      [greedy({ rbee_answer_chars: PROMPT.length + 1 }), "rbee_answer_chars"],
      // Nor start inside a character: "🐝" is two UTF-16 code units.
      [greedy({ prompt: `${PROMPT}🐝`, rbee_answer_chars: 1 }), "rbee_answer_chars"],
    ];
    for (const [body, param] of cases) {
      const response = await post(worker, "/v1/completions", body);
      expect(response.status).toBe(400);
      const error = (await json<ErrorBody>(response)).error;
      expect(error).toMatchObject({ type: "invalid_request_error", code: "invalid_request", param });
      expect(error.message).toContain(param);
    }
  });

  it("refuses a suffix on a model without fill-in-the-middle tokens, naming suffix; an empty suffix is a plain completion", async () => {
    const response = await post(worker, "/v1/completions", greedy({ suffix: "\n}" }));
    expect(response.status).toBe(400);
    expect((await json<ErrorBody>(response)).error).toMatchObject({ code: "infill_not_supported", param: "suffix", message: expect.stringContaining("fill-in-the-middle") });
    expect(await completionText(worker, greedy({ suffix: "", max_tokens: 8 }))).toBe(await completionText(worker, greedy({ max_tokens: 8 })));
  });

  it("refuses a prompt or max_tokens that cannot fit the slot, saying how many tokens were asked and fit", async () => {
    const tooLong = await post(worker, "/v1/completions", greedy({ prompt: "y".repeat(5000) }));
    expect(tooLong.status).toBe(400);
    const body = await json<ErrorBody>(tooLong);
    expect(body.error).toMatchObject({ code: "context_length_exceeded", param: "prompt" });
    expect(body.error.message).toMatch(/holds 4096 tokens, 4095 of them for a request \(one stays free\), but the request asks for 50\d\d \(5001 in the prompt/);

    const tooMany = await post(worker, "/v1/completions", greedy({ max_tokens: 4090 }));
    expect(tooMany.status).toBe(400);
    expect((await json<ErrorBody>(tooMany)).error).toMatchObject({ code: "context_length_exceeded", param: "max_tokens" });
  });

  it("keeps the whole of a prompt that fills most of the slot instead of silently dropping its start", async () => {
    // LlamaCompletion alone would cut any prompt over 90% of the context; 4000 of 4096 tokens must all count.
    const body = await json<TextCompletionBody>(await post(worker, "/v1/completions", greedy({ prompt: "z".repeat(3999), max_tokens: 8 })));
    expect(body.usage).toMatchObject({ prompt_tokens: 4000, completion_tokens: 8 });
  });

  it("refuses a body over 1 MiB with 413 and answers 405 for GET", async () => {
    const huge = await post(worker, "/v1/completions", greedy({ prompt: "x".repeat(1024 * 1024 + 1) }));
    expect(huge.status).toBe(413);
    expect((await json<ErrorBody>(huge)).error.code).toBe("request_too_large");
    const wrongMethod = await fetch(`${worker.url}/v1/completions`, { headers: { authorization: worker.authorization } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
  });

  it("frees the slot within a generous bound after a streaming client disconnects, and reports how fast", async () => {
    // Long enough (~3,500 tokens, seconds on one thread) that only an abort frees the slot in time.
    const body = JSON.stringify(greedy({ max_tokens: 3500, stream: true }));
    const disconnectedAtMs = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${worker.url}/v1/completions`, { method: "POST", headers: jsonHeaders(worker) }, (response) => {
        response.once("data", () => {
          request.destroy();
          resolve(performance.now());
        });
      });
      // Destroying the request surfaces as an error on it; that is the point here.
      request.on("error", () => {});
      request.end(body);
      request.setTimeout(10_000, () => reject(new Error("no first chunk")));
    });
    await vi.waitFor(async () => expect((await health(worker)).slotsBusy).toBe(0), { timeout: 2000, interval: 5 });
    const releaseMs = performance.now() - disconnectedAtMs;
    // Includes /health round trips at 5 ms intervals, so it is an upper bound on the real release.
    console.info(`completions slot released ${releaseMs.toFixed(0)} ms after the client disconnected`);
    expect(releaseMs).toBeLessThan(1000);
    expect(await completionText(worker, greedy({ max_tokens: 4 }))).toHaveLength(4);
  });

  it("reads the answer so far that a continuation marks (rbee_answer_chars) as plain text, the client's prompt before it with special tokens", async () => {
    const usageOf = async (prompt: string, answerChars?: number) =>
      (await json<TextCompletionBody>(await post(worker, "/v1/completions", greedy({ prompt, max_tokens: 1, rbee_answer_chars: answerChars })))).usage?.prompt_tokens;
    // A model that wrote "<|im_start|>" as characters wrote 12 tokens, not the one special token.
    expect(await usageOf("<|im_start|>Hi<|im_start|>", 12)).toBe(1 + 1 + 2 + 12);
    expect(await usageOf("<|im_start|>Hi<|im_start|>")).toBe(1 + 1 + 2 + 1);
    expect(await usageOf("<|im_start|>Hi<|im_start|>", 0)).toBe(1 + 1 + 2 + 1);
  });

  it("continues a partial text from prompt + text: the pieces join into exactly the whole greedy text", async () => {
    const fullTokens = 40;
    const full = await completionText(worker, greedy({ max_tokens: fullTokens }));
    for (const cut of [1, 7, 23, 39]) {
      const first = await completionText(worker, greedy({ max_tokens: cut }));
      const rest = await completionText(worker, greedy({ prompt: PROMPT + first, max_tokens: fullTokens - cut, rbee_answer_chars: first.length }));
      expect(first + rest, `cut after ${cut} token(s)`).toBe(full);
    }
  });
});

describe("/v1/completions with a suffix (fill in the middle)", () => {
  let fimModel: TinyModel;
  let fimWorker: RunningWorker;
  const PREFIX = "def add(a, b):";
  const SUFFIX = "return total";

  beforeAll(async () => {
    fimModel = await writeTinyModel("fill-in-the-middle");
    fimWorker = await startWorker({ workerId: "wrk_infill1", modelPath: fimModel.path });
  });

  afterAll(async () => {
    await fimWorker?.kill();
    await fimModel?.remove();
  });

  const infill = (overrides: Record<string, unknown> = {}) => ({ model: MODEL_NAME, prompt: PREFIX, suffix: SUFFIX, temperature: 0, max_tokens: 24, ...overrides });

  it("fills in between prompt and suffix as the model's FIM template does, counting the template's tokens", async () => {
    const body = await json<TextCompletionBody>(await post(fimWorker, "/v1/completions", infill()));
    // BOS, <|fim_prefix|>, the prompt, <|fim_suffix|>, the suffix, <|fim_middle|>: one token a character.
    expect(body.usage?.prompt_tokens).toBe(1 + 3 + PREFIX.length + SUFFIX.length);
    // An editor that spells the template itself in the prompt gets the same answer.
    const spelled = await completionText(fimWorker, { model: MODEL_NAME, prompt: `<|fim_prefix|>${PREFIX}<|fim_suffix|>${SUFFIX}<|fim_middle|>`, temperature: 0, max_tokens: 24 });
    expect(body.choices[0]?.text).toBe(spelled);
    // And it is not what the prompt alone continues into.
    expect(spelled).not.toBe(await completionText(fimWorker, { model: MODEL_NAME, prompt: PREFIX, temperature: 0, max_tokens: 24 }));
  });

  it("streams exactly the text it returns whole", async () => {
    const whole = await completionText(fimWorker, infill());
    const response = await post(fimWorker, "/v1/completions", infill({ stream: true }));
    const streamed = parseSse(await response.text())
      .filter((event) => event !== "[DONE]")
      .map((event) => (JSON.parse(event) as TextCompletionBody).choices[0]?.text ?? "")
      .join("");
    expect(streamed).toBe(whole);
  });
});
