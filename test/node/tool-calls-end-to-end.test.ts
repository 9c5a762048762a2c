// Tool calls and "no silent drops" through the whole local cloud: the official OpenAI client →
// queen (workerd) → hive → worker (tiny model). A required call comes back well formed, streamed
// or not; a two-step agent loop (call → tool message → answer) runs; a text answer beside tools
// keeps to the response format; each OpenAI field rbee does
// not honour is refused by the queen with a 400 naming it; fields outside the API are ignored
// and named in the x-rbee-ignored-fields header.
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TINY_VOCABULARY_SIZE, tinyTokenId } from "../../shared/gguf/tiny-model.js";
import { IGNORED_FIELDS_HEADER } from "../../shared/openai/inference-headers.js";
import { ASK_WEATHER, expectValidCall, TIME_TOOL, WEATHER_TOOL } from "../support/tool-fixtures.js";
import { type LocalCloud, openAiClient, startLocalCloud, TINY_MODEL } from "./local-cloud.js";

const HEARTBEAT_INTERVAL_MS = 1000;

let cloud: LocalCloud;
let openai: OpenAI;

beforeAll(async () => {
  cloud = await startLocalCloud({ heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, hiveName: "tools-hive" });
  const worker = await cloud.client.spawnWorker({ hive: "tools-hive", model: TINY_MODEL, source: cloud.modelSource });
  await cloud.client.waitForWorkerReady(worker.id, 60_000);
  openai = openAiClient(cloud);
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

function postJson(path: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${cloud.queen.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${cloud.apiKey}` },
    body: JSON.stringify(body),
  });
}

const CHAT = { model: TINY_MODEL, messages: ASK_WEATHER, max_tokens: 4 };

describe("tool calls through the queen", () => {
  it("gives the official client a required call, streamed or not, that assembles into the same call", async () => {
    const request = { model: TINY_MODEL, messages: ASK_WEATHER, tools: [WEATHER_TOOL, TIME_TOOL], tool_choice: "required" as const, seed: 11 };
    const whole = await openai.chat.completions.create(request);
    expect(whole.choices[0]?.finish_reason).toBe("tool_calls");
    const wholeCall = whole.choices[0]?.message.tool_calls?.[0];
    const wholeArguments = expectValidCall(wholeCall, ["get_weather", "get_time"]);

    const final = await openai.chat.completions.stream({ ...request, stream: true }).finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    const streamedCall = final.choices[0]?.message.tool_calls?.[0];
    expect(expectValidCall(streamedCall, ["get_weather", "get_time"])).toEqual(wholeArguments);
    expect(streamedCall?.type === "function" && streamedCall.function.name).toBe(wholeCall?.type === "function" && wholeCall.function.name);
  });

  it("runs a two-step loop: the named call, its tool result, then an answer in text", async () => {
    const tools = [WEATHER_TOOL];
    const first = await openai.chat.completions.create({
      model: TINY_MODEL,
      messages: ASK_WEATHER,
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      seed: 5,
    });
    const message = first.choices[0]?.message;
    const call = message?.tool_calls?.[0];
    expectValidCall(call, ["get_weather"]);
    if (message === undefined || call === undefined) throw new Error("expected a tool call");
    const second = await openai.chat.completions.create({
      model: TINY_MODEL,
      messages: [...ASK_WEATHER, message, { role: "tool", tool_call_id: call.id, content: '{"temperature":21}' }],
      tools,
      seed: 5,
      max_tokens: 10,
    });
    expect(second.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(second.choices[0]?.message.tool_calls ?? []).toEqual([]);
  });

  it("holds a text answer to the response format sent beside tools, as agent frameworks send them", async () => {
    const completion = await openai.chat.completions.create({ model: TINY_MODEL, messages: ASK_WEATHER, tools: [WEATHER_TOOL], response_format: { type: "json_object" }, seed: 3 });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.choices[0]?.message.tool_calls ?? []).toEqual([]);
    expect(JSON.parse(completion.choices[0]?.message.content ?? "")).toBeTypeOf("object");
  });

  it("answers in text when tool_choice is none", async () => {
    const completion = await openai.chat.completions.create({ ...CHAT, tools: [WEATHER_TOOL], tool_choice: "none" });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(completion.choices[0]?.message.tool_calls ?? []).toEqual([]);
  });
});

describe("no silent drops", () => {
  const imagePart = { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } };
  const audioPart = { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } };
  const refusals: Array<{ path: string; body: Record<string, unknown>; param: string }> = [
    { path: "/v1/chat/completions", body: { ...CHAT, logprobs: true }, param: "logprobs" },
    { path: "/v1/chat/completions", body: { ...CHAT, top_logprobs: 3 }, param: "top_logprobs" },
    { path: "/v1/chat/completions", body: { ...CHAT, n: 2 }, param: "n" },
    { path: "/v1/chat/completions", body: { ...CHAT, audio: { voice: "alloy", format: "wav" } }, param: "audio" },
    { path: "/v1/chat/completions", body: { ...CHAT, modalities: ["text", "audio"] }, param: "modalities" },
    { path: "/v1/chat/completions", body: { ...CHAT, prediction: { type: "content", content: "x" } }, param: "prediction" },
    { path: "/v1/chat/completions", body: { ...CHAT, web_search_options: {} }, param: "web_search_options" },
    { path: "/v1/chat/completions", body: { ...CHAT, logit_bias: { "42": -500 } }, param: "logit_bias.42" },
    { path: "/v1/chat/completions", body: { ...CHAT, store: true }, param: "store" },
    { path: "/v1/chat/completions", body: { ...CHAT, reasoning_effort: "low" }, param: "reasoning_effort" },
    { path: "/v1/chat/completions", body: { ...CHAT, functions: [{ name: "f" }] }, param: "functions" },
    { path: "/v1/chat/completions", body: { ...CHAT, tools: [{ type: "custom", custom: { name: "f" } }] }, param: "tools[0].type" },
    { path: "/v1/chat/completions", body: { ...CHAT, messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, imagePart] }] }, param: "messages[0].content[1].type" },
    { path: "/v1/chat/completions", body: { ...CHAT, messages: [{ role: "user", content: [audioPart] }] }, param: "messages[0].content[0].type" },
    { path: "/v1/completions", body: { model: TINY_MODEL, prompt: "Hi", logprobs: 2 }, param: "logprobs" },
    { path: "/v1/completions", body: { model: TINY_MODEL, prompt: "Hi", echo: true }, param: "echo" },
    { path: "/v1/completions", body: { model: TINY_MODEL, prompt: "Hi", logit_bias: { hello: 5 } }, param: "logit_bias.hello" },
    // A token the model does not have: the worker's refusal, passed on.
    { path: "/v1/chat/completions", body: { ...CHAT, logit_bias: { [String(TINY_VOCABULARY_SIZE)]: 5 } }, param: "logit_bias" },
  ];

  it("refuses each OpenAI field it does not honour with a 400 naming it", async () => {
    for (const { path, body, param } of refusals) {
      const response = await postJson(path, body);
      const { error } = (await response.json()) as { error: { message: string; param: string | null } };
      expect({ param, status: response.status, named: error.param }).toEqual({ param, status: 400, named: param });
      expect(error.message).toContain(param);
    }
  });

  it("passes logit_bias on to the worker, which biases the model's own tokens", async () => {
    const response = await postJson("/v1/chat/completions", { ...CHAT, max_tokens: 6, temperature: 1, logit_bias: { [tinyTokenId("z")]: 100 } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe("zzzzzz");
  });

  it("ignores fields outside the API and names them in a header, but not the API's own", async () => {
    const chat = await postJson("/v1/chat/completions", { ...CHAT, cache_prompt: true, user: "u1", mirostat: 2, metadata: { a: "b" } });
    expect(chat.status).toBe(200);
    expect(chat.headers.get(IGNORED_FIELDS_HEADER)).toBe("cache_prompt,mirostat");
    const embeddings = await postJson("/v1/embeddings", { model: TINY_MODEL, input: "hi", truncate: true });
    expect(embeddings.status).toBe(200);
    expect(embeddings.headers.get(IGNORED_FIELDS_HEADER)).toBe("truncate");
    const plain = await postJson("/v1/chat/completions", CHAT);
    expect(plain.headers.get(IGNORED_FIELDS_HEADER)).toBeNull();
  });
});
