// The dialect translators of queen/dialects on tool calls, which the tiny model cannot make on
// its own yet: Responses and Anthropic requests become the standard OpenAI chat request with
// `tools`, `tool_choice`, assistant `tool_calls` and `tool` messages; a chat completion with
// `message.tool_calls`, whole or streamed as `delta.tool_calls` fragments, becomes the dialect's
// answer, read here by the official `openai` and `@anthropic-ai/sdk` clients over real HTTP.
import Anthropic from "@anthropic-ai/sdk";
import { getRequestListener } from "@hono/node-server";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { anthropicErrorType } from "../../queen/dialects/anthropic/error-shape.js";
import { messageFromChat } from "../../queen/dialects/anthropic/from-chat.js";
import { MessagesRequest } from "../../queen/dialects/anthropic/request.js";
import { anthropicStreamWriter } from "../../queen/dialects/anthropic/stream.js";
import { messagesToChat } from "../../queen/dialects/anthropic/to-chat.js";
import { ChatCompletionAnswer } from "../../queen/dialects/chat-shapes.js";
import { type AnswerTranslation, translateAnswer } from "../../queen/dialects/dialect-answer.js";
import { responsesParam } from "../../queen/dialects/responses/responses-param.js";
import { parseRequest } from "../../shared/validation.js";
import { ResponsesRequest } from "../../queen/dialects/responses/request.js";
import { newResponseIdentity, responseFromChat } from "../../queen/dialects/responses/response-object.js";
import { responsesStreamWriter } from "../../queen/dialects/responses/stream.js";
import { responsesToChat } from "../../queen/dialects/responses/to-chat.js";
import { scriptedStream } from "../support/sse-streams.js";

const weatherSchema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

/** A chat completion chunk carrying `delta` (and a finish reason), as the worker streams it. */
function chunk(delta: object, finishReason: string | null = null): string {
  return `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "tiny", choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
}

/** A streamed answer with some text, then two tool calls in fragments, as OpenAI streams them. */
function toolCallStream(): Response {
  return scriptedStream([
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Checking." }),
    chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } }] }),
    chunk({}, "tool_calls"),
    `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "tiny", choices: [], usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 } })}\n\n`,
    "data: [DONE]\n\n",
  ]).response;
}

const toolCallAnswer = ChatCompletionAnswer.parse({
  id: "chatcmpl-2",
  object: "chat.completion",
  created: 1,
  model: "tiny",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: null, tool_calls: [{ id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
      finish_reason: "tool_calls",
    },
  ],
  usage: { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 },
});

/** A whole answer whose second call max_tokens cut within its arguments, as the worker returns it. */
const cutCallAnswer = ChatCompletionAnswer.parse({
  ...toolCallAnswer,
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          { id: "call_b", type: "function", function: { name: "get_weather", arguments: '{"city":"Lo' } },
        ],
      },
      finish_reason: "length",
    },
  ],
});

/** The same answer streamed: the second call's arguments stop where max_tokens cut them. */
function cutCallStream(): Response {
  return scriptedStream([
    chunk({ role: "assistant", content: "" }),
    chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "get_weather", arguments: "" } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: '{"city":"Lo' } }] }),
    chunk({}, "length"),
    "data: [DONE]\n\n",
  ]).response;
}

let server: Server | undefined;

afterEach(async () => {
  const serving = server;
  server = undefined;
  if (!serving) return;
  serving.closeAllConnections();
  await new Promise((resolve) => serving.close(resolve));
});

/** A chat stream that writes `text` and then fails at its deadline, as the queen ends one. */
function timedOutStream(text: string): Response {
  return scriptedStream([
    chunk({ role: "assistant", content: "" }),
    chunk({ content: text }),
    `data: ${JSON.stringify({ error: { message: "The request took longer than its 1 s deadline", type: "server_error", code: "request_timeout", param: null } })}\n\n`,
  ]).response;
}

/** Serves `respond()` on a loopback port; returns its base URL. */
async function serve(respond: () => Response | Promise<Response>): Promise<string> {
  const listener = getRequestListener(() => respond());
  server = createServer((request, response) => void listener(request, response));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("Anthropic Messages ↔ chat completions, tool calls", () => {
  it("gives each refusal the error type Anthropic gives its status", () => {
    const statuses = [400, 401, 403, 404, 413, 429, 500, 502, 503, 504, 529];
    expect(statuses.map(anthropicErrorType)).toEqual([
      "invalid_request_error",
      "authentication_error",
      "permission_error",
      "not_found_error",
      "request_too_large",
      "rate_limit_error",
      "api_error",
      "api_error",
      "overloaded_error",
      "timeout_error",
      "overloaded_error",
    ]);
  });

  it("turns tools, tool_choice, tool_use and tool_result blocks into the chat request's tools and messages", () => {
    const request = MessagesRequest.parse({
      model: "tiny",
      max_tokens: 100,
      system: [{ type: "text", text: "Use tools." }],
      tools: [{ name: "get_weather", description: "Weather now", input_schema: weatherSchema }],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: [{ type: "text", text: "Checking." }, { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "sunny" }] }, { type: "text", text: "Thanks" }] },
      ],
    });
    expect(messagesToChat(request)).toEqual({
      model: "tiny",
      max_tokens: 100,
      tools: [{ type: "function", function: { name: "get_weather", description: "Weather now", parameters: weatherSchema } }],
      tool_choice: "required",
      parallel_tool_calls: false,
      messages: [
        { role: "system", content: "Use tools." },
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: "Checking.", tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
        { role: "tool", tool_call_id: "toolu_1", content: "sunny" },
        { role: "user", content: "Thanks" },
      ],
    });
  });

  it("refuses a tool_result that answers no tool_use of the message before, and a tool_use left unanswered, naming the request's own message", () => {
    const use = { role: "assistant", content: [{ type: "text", text: "Checking." }, { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} }] };
    const result = (id: string) => ({ role: "user", content: [{ type: "text", text: "Here:" }, { type: "tool_result", tool_use_id: id, content: "sunny" }] });
    // The system prompt makes the chat request's messages one more: the error still names the Anthropic message.
    const translate = (messages: object[]) => () => messagesToChat(MessagesRequest.parse({ model: "tiny", max_tokens: 10, system: "Be brief.", messages }));
    expect(translate([{ role: "user", content: "Weather?" }, use, result("toolu_1")])).not.toThrow();
    expect(translate([{ role: "user", content: "Weather?" }, use, result("toolu_2")])).toThrow(
      expect.objectContaining({ status: 400, param: "messages[2].content[1].tool_use_id", message: expect.stringContaining('no tool_use "toolu_2" in the assistant message before it') }),
    );
    expect(translate([result("toolu_1")])).toThrow(expect.objectContaining({ param: "messages[0].content[1].tool_use_id" }));
    expect(translate([{ role: "user", content: "Weather?" }, use, { role: "user", content: "never mind" }])).toThrow(
      expect.objectContaining({ param: "messages[1].content[1].id", message: expect.stringContaining('tool_use "toolu_1" has no tool_result in the user message after it') }),
    );
    expect(translate([{ role: "user", content: "Weather?" }, use])).toThrow(expect.objectContaining({ param: "messages[1].content[1].id" }));
    // Two tool_use blocks of one id: the second is named as such, not as a call left unanswered.
    const twice = { role: "assistant", content: [use.content[1], { type: "tool_use", id: "toolu_1", name: "get_time", input: {} }] };
    expect(translate([{ role: "user", content: "Weather?" }, twice, result("toolu_1")])).toThrow(
      expect.objectContaining({ status: 400, param: "messages[1].content[1].id", message: expect.stringContaining('tool_use id "toolu_1" is used twice in this message') }),
    );
  });

  it("refuses, as Anthropic does, an empty text block and a tool_use whose input is not an object, naming them", () => {
    // As the route parses it: the error names the block's field.
    const parse = (messages: object[]) => () => parseRequest(MessagesRequest, { model: "tiny", max_tokens: 10, messages });
    expect(parse([{ role: "user", content: [{ type: "text", text: "" }] }])).toThrow(
      expect.objectContaining({ status: 400, param: "messages[0].content[0].text", message: "Invalid request body: messages[0].content[0].text: text content blocks must be non-empty" }),
    );
    // Whitespace alone is taken: a local model may write it before a tool call, and the agent sends it back.
    expect(parse([{ role: "user", content: "Weather?" }, { role: "assistant", content: [{ type: "text", text: "\n\n" }] }])).not.toThrow();
    const call = (input: unknown) => [{ role: "user", content: "Weather?" }, { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input }] }];
    expect(parse(call("Paris"))).toThrow(expect.objectContaining({ param: "messages[1].content[0].input", message: expect.stringContaining("input must be an object: the tool's arguments") }));
    expect(parse(call([1]))).toThrow(expect.objectContaining({ param: "messages[1].content[0].input" }));
    expect(parse(call({ city: "Paris" }))).not.toThrow();
  });

  it("names a tool by tool_choice 'tool' and refuses Anthropic's server tools by name", () => {
    const base = { model: "tiny", max_tokens: 10, messages: [{ role: "user", content: "Hi" }] };
    expect(messagesToChat(MessagesRequest.parse({ ...base, tool_choice: { type: "tool", name: "get_weather" } })).tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
    expect(() => messagesToChat(MessagesRequest.parse({ ...base, tools: [{ type: "web_search_20250305", name: "web_search" }] }))).toThrow(/tools\[0\]\.type/);
  });

  it("answers a chat tool call with a tool_use block whose input is the parsed arguments", () => {
    expect(messageFromChat(toolCallAnswer, "tiny")).toMatchObject({
      content: [{ type: "tool_use", id: "call_a", name: "get_weather", input: { city: "Paris" } }],
      stop_reason: "tool_use",
      usage: { input_tokens: 30, output_tokens: 9 },
    });
  });

  it("keeps a call max_tokens cut before its arguments were JSON, with the values that are whole, as the SDK assembles it streamed", async () => {
    expect(messageFromChat(cutCallAnswer, "tiny")).toMatchObject({
      content: [
        { type: "tool_use", id: "call_a", name: "get_weather", input: { city: "Paris" } },
        { type: "tool_use", id: "call_b", name: "get_weather", input: {} },
      ],
      stop_reason: "max_tokens",
    });
    const cutAt = (args: string) =>
      messageFromChat(ChatCompletionAnswer.parse({ ...cutCallAnswer, choices: [{ ...cutCallAnswer.choices[0], message: { role: "assistant", content: null, tool_calls: [{ id: "call_c", type: "function", function: { name: "f", arguments: args } }] } }] }), "tiny").content;
    expect(cutAt('{"unit":"C","days":[1,2,3')).toEqual([{ type: "tool_use", id: "call_c", name: "f", input: { unit: "C", days: [1, 2] } }]);
    expect(cutAt("")).toEqual([{ type: "tool_use", id: "call_c", name: "f", input: {} }]);
    // The same cut answer streamed, as the official client puts it together.
    const translation: AnswerTranslation = { json: (answer) => messageFromChat(answer, "tiny"), stream: (emit) => anthropicStreamWriter(emit, "tiny") };
    const url = await serve(() => translateAnswer(cutCallStream(), translation));
    const client = new Anthropic({ baseURL: url, apiKey: "test", maxRetries: 0 });
    const streamed = await client.messages.stream({ model: "tiny", max_tokens: 10, messages: [{ role: "user", content: "Weather?" }] }).finalMessage();
    expect(streamed.content).toEqual((messageFromChat(cutCallAnswer, "tiny") as { content: unknown[] }).content);
    expect(streamed.stop_reason).toBe("max_tokens");
  });

  it("streams tool call fragments as input_json_delta events the official client assembles", async () => {
    const translation: AnswerTranslation = { json: (answer) => messageFromChat(answer, "tiny"), stream: (emit) => anthropicStreamWriter(emit, "tiny") };
    const url = await serve(() => translateAnswer(toolCallStream(), translation));
    const client = new Anthropic({ baseURL: url, apiKey: "test", maxRetries: 0 });
    const message = await client.messages.stream({ model: "tiny", max_tokens: 10, messages: [{ role: "user", content: "Weather?" }] }).finalMessage();
    expect(message.content).toEqual([
      { type: "text", text: "Checking." },
      { type: "tool_use", id: "call_a", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "call_b", name: "get_time", input: {} },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage.output_tokens).toBe(12);
  });

  it("ends a failed stream with Anthropic's error event, the queen's code kept in its message as in whole errors", async () => {
    const translation: AnswerTranslation = { json: (answer) => messageFromChat(answer, "tiny"), stream: (emit) => anthropicStreamWriter(emit, "tiny") };
    const url = await serve(() => translateAnswer(timedOutStream("Half"), translation));
    const client = new Anthropic({ baseURL: url, apiKey: "test", maxRetries: 0 });
    const stream = client.messages.stream({ model: "tiny", max_tokens: 10, messages: [{ role: "user", content: "Hi" }] });
    await expect(stream.finalMessage()).rejects.toMatchObject({ error: { type: "error", error: { type: "api_error", message: "The request took longer than its 1 s deadline (request_timeout)" } } });
  });
});

describe("Responses API ↔ chat completions, tool calls", () => {
  it("turns flat function tools, function_call and function_call_output items into the chat request", () => {
    const request = ResponsesRequest.parse({
      model: "tiny",
      instructions: "Use tools.",
      tools: [{ type: "function", name: "get_weather", description: "Weather now", parameters: weatherSchema, strict: true }],
      tool_choice: { type: "function", name: "get_weather" },
      input: [
        { role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking." }] },
        { type: "function_call", call_id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}' },
        { type: "function_call_output", call_id: "call_a", output: "sunny" },
      ],
    });
    expect(responsesToChat(request, [])).toEqual({
      model: "tiny",
      tools: [{ type: "function", function: { name: "get_weather", description: "Weather now", parameters: weatherSchema, strict: true } }],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      messages: [
        { role: "system", content: "Use tools." },
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: "Checking.", tool_calls: [{ id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
        { role: "tool", tool_call_id: "call_a", content: "sunny" },
      ],
    });
  });

  it("answers a chat tool call with a function_call output item", () => {
    const response = responseFromChat(newResponseIdentity(ResponsesRequest.parse({ model: "tiny", input: "Weather?" })), toolCallAnswer);
    expect(response.status).toBe("completed");
    expect(response.completed_at).toBeGreaterThanOrEqual(response.created_at);
    expect(response.output).toEqual([expect.objectContaining({ type: "function_call", call_id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" })]);
  });

  it("marks the call max_tokens cut incomplete, whole and streamed, and the calls before it completed", async () => {
    const identity = newResponseIdentity(ResponsesRequest.parse({ model: "tiny", input: "Weather?" }));
    const whole = responseFromChat(identity, cutCallAnswer);
    expect(whole.status).toBe("incomplete");
    expect(whole.completed_at).toBeNull();
    expect(whole.output.map((item) => [item.type, item.status, item.type === "function_call" ? item.arguments : undefined])).toEqual([
      ["function_call", "completed", '{"city":"Paris"}'],
      ["function_call", "incomplete", '{"city":"Lo'],
    ]);

    const translation: AnswerTranslation = { json: (answer) => responseFromChat(identity, answer), stream: (emit) => responsesStreamWriter(emit, identity, async () => {}) };
    const url = await serve(() => translateAnswer(cutCallStream(), translation));
    const client = new OpenAI({ baseURL: url, apiKey: "test", maxRetries: 0 });
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of await client.responses.create({ model: "tiny", input: "Weather?", stream: true })) {
      if (event.type === "response.incomplete") final = event.response;
    }
    expect(final?.output.map((item) => [item.type, item.type === "function_call" ? item.status : undefined])).toEqual([
      ["function_call", "completed"],
      ["function_call", "incomplete"],
    ]);
  });

  it("marks the message a failed stream was writing incomplete, in its output_item.done and in response.failed", async () => {
    const identity = newResponseIdentity(ResponsesRequest.parse({ model: "tiny", input: "Hi" }));
    const translation: AnswerTranslation = { json: (answer) => responseFromChat(identity, answer), stream: (emit) => responsesStreamWriter(emit, identity, async () => {}) };
    const url = await serve(() => translateAnswer(timedOutStream("Half an ans"), translation));
    const client = new OpenAI({ baseURL: url, apiKey: "test", maxRetries: 0 });
    const done: string[] = [];
    let failed: OpenAI.Responses.Response | undefined;
    for await (const event of await client.responses.create({ model: "tiny", input: "Hi", stream: true })) {
      if (event.type === "response.output_item.done" && event.item.type === "message") done.push(event.item.status);
      if (event.type === "response.failed") failed = event.response;
    }
    expect(done).toEqual(["incomplete"]);
    expect(failed?.error).toMatchObject({ code: "request_timeout" });
    expect(failed?.output).toEqual([expect.objectContaining({ type: "message", status: "incomplete" })]);
  });

  it("streams tool call fragments as function_call_arguments events the official client reads", async () => {
    const identity = newResponseIdentity(ResponsesRequest.parse({ model: "tiny", input: "Weather?" }));
    const translation: AnswerTranslation = { json: (answer) => responseFromChat(identity, answer), stream: (emit) => responsesStreamWriter(emit, identity, async () => {}) };
    const url = await serve(() => translateAnswer(toolCallStream(), translation));
    const client = new OpenAI({ baseURL: url, apiKey: "test", maxRetries: 0 });
    const stream = await client.responses.create({ model: "tiny", input: "Weather?", stream: true });
    let argumentsSeen = "";
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === "response.function_call_arguments.delta" && event.output_index === 1) argumentsSeen += event.delta;
      if (event.type === "response.completed") final = event.response;
    }
    expect(argumentsSeen).toBe('{"city":"Paris"}');
    expect(final?.output.map((item) => (item.type === "function_call" ? [item.call_id, item.name, JSON.parse(item.arguments)] : item.type === "message" ? item.content : item.type))).toEqual([
      [expect.objectContaining({ type: "output_text", text: "Checking." })],
      ["call_a", "get_weather", { city: "Paris" }],
      ["call_b", "get_time", {}],
    ]);
    expect(final?.usage).toMatchObject({ input_tokens: 30, output_tokens: 12, total_tokens: 42 });
  });
});

describe("Responses errors name Responses fields", () => {
  it("names the Responses field a chat request's param came from", () => {
    expect(responsesParam("messages")).toBe("input");
    expect(responsesParam("messages[3].content")).toBe("input");
    expect(responsesParam("max_tokens")).toBe("max_output_tokens");
    expect(responsesParam("max_completion_tokens")).toBe("max_output_tokens");
    expect(responsesParam("response_format")).toBe("text.format");
    expect(responsesParam("response_format.json_schema.schema.properties")).toBe("text.format.schema.properties");
    expect(responsesParam("tools[1].function.parameters")).toBe("tools[1].parameters");
    expect(responsesParam("tool_choice.function.name")).toBe("tool_choice.name");
  });

  it("leaves a param that already names a Responses field, or one both APIs share", () => {
    for (const param of ["input[0].content[0].type", "temperature", "top_p", "tools[0].type", "previous_response_id", "max_tokens_x", "messagesx"]) {
      expect(responsesParam(param)).toBe(param);
    }
  });
});
