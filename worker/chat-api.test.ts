// The worker's chat API, run as a real process on the tiny model: response and stream shapes,
// usage, stop strings, error statuses, heartbeats, freeing the slot when a client leaves, and
// continuing a partial answer (a trailing assistant message), as the queen's mid-stream failover does.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TINY_VOCABULARY_SIZE, tinyTokenId } from "../shared/gguf/tiny-model.js";
import { PROMPT_TOKENS_HEADER, STREAM_WRITE_INTERVAL_HEADER } from "../shared/openai/inference-headers.js";
import { HiveChannelStub } from "../test/support/hive-channel-stub.js";
import {
  chatText,
  completionText,
  greedyChat,
  health,
  json,
  jsonHeaders,
  MODEL_NAME,
  parseSse,
  post,
  startWorker,
  writeTinyModel,
  type ChatChunkBody,
  type ChatCompletionBody,
  type ErrorBody,
  type RunningWorker,
  type TinyModel,
} from "../test/support/running-worker.js";

// The tiny model's tokenizer has one token per character, and its ChatML template renders a user
// "Hi" as BOS, <|im_start|>, "user\n" (5), "Hi" (2), <|im_end|>, "\n", <|im_start|>, "assistant\n" (10).
const PROMPT_TOKENS_FOR_HI = 22;

/** Tokens of a whole answer, and the points where a worker "dies" after that many tokens. */
const FULL_TOKENS = 40;
const CUT_AFTER_TOKENS = [1, 7, 23, 39];

let model: TinyModel;
let hive: HiveChannelStub;

beforeAll(async () => {
  model = await writeTinyModel();
  hive = await HiveChannelStub.start();
});

afterAll(async () => {
  await hive?.close();
  await model?.remove();
});

describe("a running worker", () => {
  let worker: RunningWorker;

  beforeAll(async () => {
    worker = await startWorker({ workerId: "wrk_serving1", hiveChannel: hive.url, modelPath: model.path });
  });

  afterAll(async () => {
    await worker?.kill();
  });

  it("serves /health with its model, id and free slots", async () => {
    const response = await fetch(`${worker.url}/health`, { headers: { authorization: worker.authorization } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "ready",
      model: MODEL_NAME,
      workerId: worker.workerId,
      slotsTotal: 1,
      slotsBusy: 0,
      queueLength: 0,
    });
  });

  it("answers a chat completion with text, usage, and finish_reason length when max_tokens is hit", async () => {
    const response = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 16 }));
    expect(response.status).toBe(200);
    const body = await json<ChatCompletionBody>(response);
    expect(body).toMatchObject({
      object: "chat.completion",
      model: MODEL_NAME,
      choices: [{ index: 0, message: { role: "assistant", refusal: null }, finish_reason: "length", logprobs: null }],
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    // With OpenAI's breakdown, which clients read without a check (usage.prompt_tokens_details.cached_tokens).
    expect(body.usage).toEqual({
      prompt_tokens: PROMPT_TOKENS_FOR_HI,
      completion_tokens: 16,
      total_tokens: PROMPT_TOKENS_FOR_HI + 16,
      prompt_tokens_details: { cached_tokens: expect.any(Number), audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    });
  });

  it("keeps a role marker a user types as text: it cannot end the user's turn", async () => {
    const typed = greedyChat({ max_tokens: 1, messages: [{ role: "user", content: "<|im_end|>" }] });
    // "<|im_end|>" is 10 characters where "Hi" is 2: as the special token it would be 1.
    expect((await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", typed))).usage.prompt_tokens).toBe(PROMPT_TOKENS_FOR_HI + 8);
  });

  it("counts the whole templated prompt even when the sequence already holds it, and what it held as cached", async () => {
    const story = { role: "user", content: "Once upon a time there was a tiny model. ".repeat(8) };
    const first = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4, messages: [story] })));
    const again = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4, messages: [story] })));
    expect(again.usage.prompt_tokens).toBe(first.usage.prompt_tokens);
    // The same prompt again: all of it but the last token, whose logits are asked for anew (as llama.cpp's server counts).
    expect(again.usage.prompt_tokens_details.cached_tokens).toBe(again.usage.prompt_tokens - 1);
    // The conversation going on: the earlier turn is held, the new one is not.
    const answer = { role: "assistant", content: first.choices[0]?.message.content ?? "" };
    const next = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4, messages: [story, answer, { role: "user", content: "And then?" }] })));
    expect(next.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(first.usage.prompt_tokens);
    expect(next.usage.prompt_tokens_details.cached_tokens).toBeLessThan(next.usage.prompt_tokens - "And then?".length);
    // Another story: only the template's start ("<BOS><|im_start|>user\n") is shared.
    const other = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4, messages: [{ role: "user", content: "Hi" }] })));
    expect(other.usage.prompt_tokens_details.cached_tokens).toBe(7);
    // The same story for another API key (the queen's scope): its slot's tokens are not told of, and the first key's no more after it.
    const scoped = (scope: string) => greedyChat({ max_tokens: 4, messages: [story], rbee_cache_scope: scope });
    await post(worker, "/v1/chat/completions", scoped("key-a"));
    const ownAgain = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", scoped("key-a")));
    expect(ownAgain.usage.prompt_tokens_details.cached_tokens).toBe(ownAgain.usage.prompt_tokens - 1);
    const anothers = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", scoped("key-b")));
    expect(anothers.usage.prompt_tokens_details.cached_tokens).toBe(0);
    expect((await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", scoped("key-a")))).usage.prompt_tokens_details.cached_tokens).toBe(0);
  });

  it("gives the same text for the same greedy request", async () => {
    const first = await chatText(worker, greedyChat({ max_tokens: 40 }));
    const second = await chatText(worker, greedyChat({ max_tokens: 40 }));
    expect(second).toBe(first);
  });

  it("streams exactly the text it returns without streaming, in OpenAI's chunk order", async () => {
    const expected = await chatText(worker, greedyChat({ max_tokens: 40 }));
    const response = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 40, stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = parseSse(await response.text());

    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as ChatChunkBody);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: "length" });
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", id: chunks[0]?.id, model: MODEL_NAME });
    }
    const streamed = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(streamed).toBe(expected);
  });

  it("sends a usage chunk before [DONE] when stream_options.include_usage is set, and names the prompt's tokens in the head", async () => {
    const response = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 8, stream: true, stream_options: { include_usage: true } }));
    // For the queen, which charges them to a stream its client leaves before the usage chunk.
    expect(response.headers.get(PROMPT_TOKENS_HEADER)).toBe(String(PROMPT_TOKENS_FOR_HI));
    const events = parseSse(await response.text());
    expect(events.at(-1)).toBe("[DONE]");
    const usageChunk = JSON.parse(events.at(-2) ?? "{}") as ChatChunkBody;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS_FOR_HI, completion_tokens: 8 });
    expect(usageChunk.usage?.total_tokens).toBe((usageChunk.usage?.prompt_tokens ?? 0) + 8);
  });

  it("spaces a stream's writes by the interval its hive asks for, and refuses an interval it cannot read", async () => {
    const expected = await chatText(worker, greedyChat({ max_tokens: 100 }));
    // A second between writes, far longer than 100 tokens take: the first text at once, the rest at the end.
    const reads = await new Promise<string[]>((resolve, reject) => {
      const headers = { ...jsonHeaders(worker), [STREAM_WRITE_INTERVAL_HEADER]: "1000" };
      const request = httpRequest(`${worker.url}/v1/chat/completions`, { method: "POST", headers }, (response) => {
        const received: string[] = [];
        response.setEncoding("utf8");
        response.on("data", (text: string) => received.push(text));
        response.on("end", () => resolve(received));
      });
      request.on("error", reject);
      request.end(JSON.stringify(greedyChat({ max_tokens: 100, stream: true })));
    });
    expect(reads.length).toBeLessThanOrEqual(2);
    const events = parseSse(reads.join(""));
    expect(events.at(-1)).toBe("[DONE]");
    const streamed = events.slice(0, -1).map((event) => (JSON.parse(event) as ChatChunkBody).choices[0]?.delta.content ?? "");
    expect(streamed.join("")).toBe(expected);

    for (const bad of ["fast", "-5", "1.5", "1001"]) {
      const refused = await fetch(`${worker.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...jsonHeaders(worker), [STREAM_WRITE_INTERVAL_HEADER]: bad },
        body: JSON.stringify(greedyChat({ max_tokens: 4, stream: true })),
      });
      expect(refused.status, bad).toBe(400);
      expect((await json<ErrorBody>(refused)).error).toMatchObject({ code: "invalid_header", param: STREAM_WRITE_INTERVAL_HEADER, message: expect.stringContaining(JSON.stringify(bad)) });
    }
  });

  it("biases the model's own tokens by logit_bias, in chats and completions, and refuses an id the model does not have", async () => {
    const text = await chatText(worker, greedyChat({ max_tokens: 20 }));
    const first = text[0] ?? "";
    // -100: the greedy answer's first character never comes.
    const banned = await chatText(worker, greedyChat({ max_tokens: 20, logit_bias: { [tinyTokenId(first)]: -100 } }));
    expect(banned).not.toContain(first);
    expect(banned.length).toBeGreaterThan(0);
    // 100: only that token, even sampling at temperature 1.
    expect(await chatText(worker, greedyChat({ max_tokens: 8, temperature: 1, seed: 3, logit_bias: { [tinyTokenId("z")]: 100 } }))).toBe("zzzzzzzz");
    expect(await completionText(worker, { model: MODEL_NAME, prompt: "Hi", max_tokens: 6, logit_bias: { [tinyTokenId("q")]: 100 } })).toBe("qqqqqq");
    // On the end of a turn (<|im_end|>, id 4) too: 100 ends the answer before its first token.
    const ended = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 8, logit_bias: { "4": 100 } })));
    expect([ended.choices[0]?.message.content, ended.choices[0]?.finish_reason, ended.usage?.completion_tokens]).toEqual(["", "stop", 0]);

    const refused = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4, logit_bias: { [String(TINY_VOCABULARY_SIZE)]: 5 } }));
    expect(refused.status).toBe(400);
    expect((await json<ErrorBody>(refused)).error).toMatchObject({
      param: "logit_bias",
      message: `logit_bias: token ${TINY_VOCABULARY_SIZE} is not in this model's vocabulary (ids 0 to ${TINY_VOCABULARY_SIZE - 1})`,
    });
  });

  it("counts every token max_tokens cut off, the bytes of a character it left incomplete too", async () => {
    // The byte token 0xF0 opens a four-byte character; forced each time, no character is ever whole.
    const leadByte = { "245": 100 };
    const completion = await json<{ choices: Array<{ text: string; finish_reason: string }>; usage: { completion_tokens: number } }>(
      await post(worker, "/v1/completions", { model: MODEL_NAME, prompt: "Hi", max_tokens: 6, logit_bias: leadByte }),
    );
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage.completion_tokens).toBe(6);
    const chat = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 5, logit_bias: leadByte })));
    expect(chat.choices[0]?.finish_reason).toBe("length");
    expect(chat.usage?.completion_tokens).toBe(5);
  });

  it("ends the text before a stop string, with finish_reason stop and the string in stop_reason, whole and streamed", async () => {
    const text = await chatText(worker, greedyChat({ max_tokens: 40 }));
    const stop = text.slice(20, 23);
    const response = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 40, stop: ["never-generated", stop] }));
    const body = await json<ChatCompletionBody>(response);
    expect(body.choices[0]?.message.content).toBe(text.slice(0, text.indexOf(stop)));
    expect(body.choices[0]).toMatchObject({ finish_reason: "stop", stop_reason: stop });
    // Completion tokens are those of the returned text (one per character here), not of the stop string.
    expect(body.usage.completion_tokens).toBe(body.choices[0]?.message.content.length);
    const streamed = parseSse(await (await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 40, stop: [stop], stream: true }))).text());
    const finish = streamed.filter((data) => data !== "[DONE]").map((data) => (JSON.parse(data) as ChatChunkBody).choices[0]).find((choice) => choice?.finish_reason);
    expect(finish).toMatchObject({ finish_reason: "stop", stop_reason: stop });
    // An answer its model ended, or max_tokens cut, names no stop string.
    expect((await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4 })))).choices[0]).not.toHaveProperty("stop_reason");
  });

  it("keeps the text that might have begun a stop string when max_tokens ends the answer first, whole and streamed", async () => {
    // node-llama-cpp holds back text that could be the start of a stop trigger until the trigger
    // completes or fails; at max_tokens it did neither, and the text is the answer's.
    const text = await chatText(worker, greedyChat({ max_tokens: 10 }));
    const unused = [..."~§¤¶"].find((character) => !text.includes(character));
    const stop = `${text.slice(-1)}${unused}`;
    for (const stream of [false, true]) {
      const response = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 10, stop, stream }));
      if (!stream) {
        expect((await json<ChatCompletionBody>(response)).choices[0]).toMatchObject({ message: { content: text }, finish_reason: "length" });
        continue;
      }
      const choices = parseSse(await response.text()).filter((data) => data !== "[DONE]").map((data) => (JSON.parse(data) as ChatChunkBody).choices[0]);
      expect(choices.map((choice) => choice?.delta.content ?? "").join("")).toBe(text);
      expect(choices.find((choice) => choice?.finish_reason)?.finish_reason).toBe("length");
    }
    // The chat template's own end text (ChatML's "<|im_end|>", plain text in the tiny model) holds
    // a final "<" back the same way: forced each time, every "<" generated comes back.
    const angles = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 5, logit_bias: { [tinyTokenId("<")]: 100 } }));
    expect((await json<ChatCompletionBody>(angles)).choices[0]).toMatchObject({ message: { content: "<<<<<" }, finish_reason: "length" });
    expect(await completionText(worker, { model: MODEL_NAME, prompt: "Hi", max_tokens: 5, stop: "q~", logit_bias: { [tinyTokenId("q")]: 100 } })).toBe("qqqqq");
  });

  it("rejects malformed JSON with 400 naming the problem", async () => {
    const response = await fetch(`${worker.url}/v1/chat/completions`, { method: "POST", headers: jsonHeaders(worker), body: '{"model": "x",' });
    expect(response.status).toBe(400);
    const body = await json<ErrorBody>(response);
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
    expect(body.error.message).toMatch(/^Malformed JSON body: /);
  });

  it("rejects a request without messages with 400 naming messages", async () => {
    const response = await post(worker, "/v1/chat/completions", { model: MODEL_NAME });
    expect(response.status).toBe(400);
    const body = await json<ErrorBody>(response);
    expect(body.error).toMatchObject({ param: "messages", code: "invalid_request" });
    expect(body.error.message).toContain("messages");
  });

  it("refuses a body over 1 MiB with 413 before parsing it", async () => {
    const hugeText = "x".repeat(1024 * 1024 + 1);
    const response = await post(worker, "/v1/chat/completions", { model: MODEL_NAME, messages: [{ role: "user", content: hugeText }] });
    expect(response.status).toBe(413);
    expect((await json<ErrorBody>(response)).error.code).toBe("request_too_large");
  });

  it("refuses a prompt that cannot fit the context, saying how many tokens were asked and fit", async () => {
    const longText = "y".repeat(5000);
    const response = await post(worker, "/v1/chat/completions", { model: MODEL_NAME, messages: [{ role: "user", content: longText }] });
    expect(response.status).toBe(400);
    const body = await json<ErrorBody>(response);
    expect(body.error).toMatchObject({ code: "context_length_exceeded", param: "messages" });
    expect(body.error.message).toMatch(/holds 4096 tokens, 4095 of them for a request \(one stays free\), but the request asks for 50\d\d/);
  });

  it("counts a chat's prompt tokens without generating, as the chat would count them, a prompt past the context too", async () => {
    const count = async (body: object) => json<{ object: string; input_tokens: number }>(await post(worker, "/v1/chat/completions/input_tokens", { model: MODEL_NAME, ...body }));
    expect(await count({ messages: [{ role: "user", content: "Hi" }] })).toEqual({ object: "chat.completion.input_tokens", input_tokens: PROMPT_TOKENS_FOR_HI });
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
    const withTools = { messages: [{ role: "user", content: "Weather?" }], tools };
    const chatted = await json<ChatCompletionBody>(await post(worker, "/v1/chat/completions", { ...withTools, model: MODEL_NAME, max_tokens: 1, temperature: 0 }));
    expect((await count(withTools)).input_tokens).toBe(chatted.usage.prompt_tokens);
    // 5,000 characters are 5,000 tokens here, past the 4,095 a slot holds: a chat refuses them, a count counts them.
    expect((await count({ messages: [{ role: "user", content: "y".repeat(5000) }] })).input_tokens).toBe(5000 + PROMPT_TOKENS_FOR_HI - 2);
    const invalid = await post(worker, "/v1/chat/completions/input_tokens", { model: MODEL_NAME });
    expect(invalid.status).toBe(400);
    expect((await json<ErrorBody>(invalid)).error).toMatchObject({ param: "messages" });
  });

  it("answers 404 for an unknown route and 405 for a wrong method, as OpenAI-style errors", async () => {
    const notFound = await fetch(`${worker.url}/v1/nothing-here`, { headers: { authorization: worker.authorization } });
    expect(notFound.status).toBe(404);
    expect((await json<ErrorBody>(notFound)).error.code).toBe("not_found");
    const wrongMethod = await fetch(`${worker.url}/v1/chat/completions`, { headers: { authorization: worker.authorization } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect((await json<ErrorBody>(wrongMethod)).error).toMatchObject({ code: "method_not_allowed", param: null });
  });

  it("sends valid heartbeats to the hive channel: loading first, then ready", async () => {
    await vi.waitFor(() => expect(hive.states(worker.workerId)).toContain("ready"), { timeout: 10_000 });
    expect(hive.rejected).toEqual([]);
    const received = hive.heartbeats(worker.workerId);
    expect(received[0]?.state).toBe("loading");
    for (const heartbeat of received) {
      expect(heartbeat).toMatchObject({ model: MODEL_NAME, pid: worker.pid, port: worker.port });
      expect(heartbeat.memoryRssBytes).toBeGreaterThan(10 * 1024 * 1024);
    }
    // Load progress only while loading; device, slots and speed once the engine exists.
    expect(received[0]?.loadProgress).toBeGreaterThanOrEqual(0);
    const ready = received.find((heartbeat) => heartbeat.state === "ready");
    expect(ready).toMatchObject({ device: "cpu", memoryVramBytes: null, slotsTotal: 1, queueLength: 0 });
    expect(ready?.loadProgress).toBeUndefined();
  });

  it("reports the generation speed of the last interval in its heartbeats", async () => {
    await chatText(worker, greedyChat({ max_tokens: 300 }));
    await vi.waitFor(
      () => {
        const speeds = hive.heartbeats(worker.workerId).map((heartbeat) => heartbeat.tokensPerSecond);
        expect(Math.max(...speeds)).toBeGreaterThan(0);
      },
      { timeout: 10_000 },
    );
  });

  it("frees the slot as soon as a streaming client disconnects", async () => {
    // Long enough (~3,500 tokens, seconds on one thread) that only an abort frees the slot in time.
    const body = JSON.stringify(greedyChat({ max_tokens: 3500, stream: true }));
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(`${worker.url}/v1/chat/completions`, { method: "POST", headers: jsonHeaders(worker) }, (response) => {
        response.once("data", () => {
          request.destroy();
          resolve();
        });
      });
      // Destroying the request surfaces as an error on it; that is the point here.
      request.on("error", () => {});
      request.end(body);
      request.setTimeout(10_000, () => reject(new Error("no first chunk")));
    });
    await vi.waitFor(
      async () => {
        expect((await health(worker)).slotsBusy).toBe(0);
      },
      { timeout: 1500, interval: 20 },
    );
    const followUp = await post(worker, "/v1/chat/completions", greedyChat({ max_tokens: 4 }));
    expect(followUp.status).toBe(200);
    expect((await json<ChatCompletionBody>(followUp)).choices[0]?.finish_reason).toBe("length");
  });

  describe("continuing an answer from its first part (the last message is the assistant's)", () => {
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Tell me a story" },
    ];
    const continued = (first: string) => [...messages, { role: "assistant", content: first }];

    it("joins the first part and its continuation into exactly the whole greedy answer", async () => {
      const full = await chatText(worker, greedyChat({ messages, max_tokens: FULL_TOKENS }));
      expect(full.length).toBeGreaterThan(0);
      for (const cut of CUT_AFTER_TOKENS) {
        const first = await chatText(worker, greedyChat({ messages, max_tokens: cut }));
        expect(full.startsWith(first), `the first ${cut} token(s) start the whole answer`).toBe(true);
        const rest = await chatText(worker, greedyChat({ messages: continued(first), max_tokens: FULL_TOKENS - cut }));
        expect(first + rest, `cut after ${cut} token(s)`).toBe(full);
      }
    });

    it("streams only the new text", async () => {
      const full = await chatText(worker, greedyChat({ messages, max_tokens: FULL_TOKENS }));
      const first = await chatText(worker, greedyChat({ messages, max_tokens: 10 }));
      const response = await post(worker, "/v1/chat/completions", greedyChat({ messages: continued(first), max_tokens: FULL_TOKENS - 10, stream: true }));
      expect(response.status).toBe(200);
      const chunks = parseSse(await response.text());
      expect(chunks.at(-1)).toBe("[DONE]");
      const deltas = chunks.slice(0, -1).map((chunk) => JSON.parse(chunk) as ChatChunkBody);
      expect(deltas[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
      expect(first + deltas.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(full);
      expect(deltas.at(-1)?.choices[0]?.finish_reason).toBe("length");
    });
  });
});
