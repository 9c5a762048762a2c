// Tool calls on the real worker process with the tiny model, read by the official OpenAI client:
// a call the request requires is forced by grammar, so even random weights make a well-formed
// one whose arguments fit the tool's schema; streamed pieces assemble into the same call; a
// `tool` message's result goes back into the chat; tool_choice "none" gives text; a parameters
// schema the grammar cannot enforce, or nested too deep to walk, is refused naming the tool.
import OpenAI from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, jsonHeaders, MODEL_NAME, post, startWorker, writeTinyModel, type ErrorBody, type RunningWorker, type TinyModel } from "../test/support/running-worker.js";
import { ASK_WEATHER, expectValidCall, TIME_TOOL, WEATHER_TOOL } from "../test/support/tool-fixtures.js";
import { tinyTokenId } from "../shared/gguf/tiny-model.js";

let model: TinyModel;
let worker: RunningWorker;
let client: OpenAI;

beforeAll(async () => {
  model = await writeTinyModel();
  worker = await startWorker({ workerId: "wrk_tools1", modelPath: model.path });
  client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: worker.authorization.slice("Bearer ".length), maxRetries: 0 });
});

afterAll(async () => {
  await worker?.kill();
  await model?.remove();
});

const NAMES = [WEATHER_TOOL.function.name, TIME_TOOL.function.name];

describe("tool calls on the worker", () => {
  it("makes a call when tool_choice is required, with arguments that parse and fit the tool's schema", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const completion = await client.chat.completions.create({ model: MODEL_NAME, messages: ASK_WEATHER, tools: [WEATHER_TOOL, TIME_TOOL], tool_choice: "required", seed });
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe("tool_calls");
      expect(choice?.message.content).toBeNull();
      expect(choice?.message.tool_calls).toHaveLength(1);
      expectValidCall(choice?.message.tool_calls?.[0], NAMES);
    }
  });

  it("counts the tokens of a call in usage, streamed or not, and stops a call at max_tokens with finish_reason length", async () => {
    const request = { model: MODEL_NAME, messages: ASK_WEATHER, tools: [WEATHER_TOOL], tool_choice: "required", seed: 2 } satisfies ChatCompletionCreateParamsNonStreaming;
    const whole = await client.chat.completions.create(request);
    const call = whole.choices[0]?.message.tool_calls?.[0];
    expectValidCall(call, ["get_weather"]);
    // The tiny model's vocabulary is bytes and a few merges: a call takes at least a token per 4 characters.
    const callCharacters = JSON.stringify(call).length;
    expect(whole.usage?.completion_tokens).toBeGreaterThan(callCharacters / 4);

    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    let streamedUsage: OpenAI.CompletionUsage | undefined;
    const deltas: unknown[] = [];
    for await (const chunk of stream) {
      streamedUsage = chunk.usage ?? streamedUsage;
      if (chunk.choices[0]) deltas.push(chunk.choices[0].delta);
    }
    // The same tokens; the stream's prompt was held by the slot already, which only its cached_tokens says.
    expect(streamedUsage).toMatchObject({ prompt_tokens: whole.usage?.prompt_tokens, completion_tokens: whole.usage?.completion_tokens, total_tokens: whole.usage?.total_tokens });
    // As OpenAI streams a call: the role with no text (null, not ""), then the call's pieces and never any content.
    expect(deltas[0]).toEqual({ role: "assistant", content: null });
    expect(deltas.slice(1).some((delta) => "content" in (delta as object))).toBe(false);

    // Cut within the name (a token per character): the call is still the one tool's, with no arguments yet.
    const cut = await client.chat.completions.create({ ...request, max_tokens: 5 });
    expect(cut.choices[0]?.finish_reason).toBe("length");
    expect(cut.usage?.completion_tokens).toBe(5);
    expect(cut.choices[0]?.message.content).toBeNull();
    expect(cut.choices[0]?.message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_[0-9a-f]+$/), type: "function", function: { name: "get_weather", arguments: "" } }]);
    const cutInNameStream = await client.chat.completions.create({ ...request, max_tokens: 5, stream: true });
    const cutInNameDeltas: unknown[] = [];
    for await (const chunk of cutInNameStream) cutInNameDeltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
    expect(cutInNameDeltas).toEqual([{ index: 0, id: expect.stringMatching(/^call_/), type: "function", function: { name: "get_weather", arguments: "" } }]);
    // Cut within its arguments (its name took the tiny model a token per character): the call as far
    // as it got, as a stream's client assembles it and as OpenAI returns a call cut by length.
    const cutInArguments = await client.chat.completions.create({ ...request, max_tokens: 40 });
    expect(cutInArguments.choices[0]?.finish_reason).toBe("length");
    const cutCall = cutInArguments.choices[0]?.message.tool_calls?.[0];
    expect(cutCall).toMatchObject({ type: "function", id: expect.stringMatching(/^call_[0-9a-f]+$/), function: { name: "get_weather" } });
    if (cutCall?.type !== "function") throw new Error("expected a function tool call");
    expect(cutInArguments.choices[0]?.message.content).toBeNull();
    const cutStream = await client.chat.completions.create({ ...request, max_tokens: 40, stream: true });
    let streamedArguments = "";
    let streamedFinish: string | null | undefined;
    for await (const chunk of cutStream) {
      streamedArguments += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
      streamedFinish = chunk.choices[0]?.finish_reason ?? streamedFinish;
    }
    expect(streamedFinish).toBe("length");
    expect(cutCall.function.arguments).toBe(streamedArguments);
    expect(cutCall.function.arguments.length).toBeGreaterThan(0);
    expect(() => JSON.parse(cutCall.function.arguments)).toThrow(); // cut: not yet a whole JSON value
    // An agent loop sends the cut call back with its tool's answer, as OpenAI takes it: any text.
    const next = await client.chat.completions.create({
      model: MODEL_NAME,
      max_tokens: 4,
      messages: [...ASK_WEATHER, { role: "assistant", content: null, tool_calls: [cutCall] }, { role: "tool", tool_call_id: cutCall.id, content: "error: the arguments were cut off" }],
    });
    expect(next.choices[0]?.finish_reason).toBe("length");
  });

  it("calls the function tool_choice names, and streams pieces that assemble into the same call", async () => {
    const request = {
      model: MODEL_NAME,
      messages: ASK_WEATHER,
      tools: [TIME_TOOL, WEATHER_TOOL],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      seed: 7,
    } satisfies ChatCompletionCreateParamsNonStreaming;
    const whole = (await client.chat.completions.create(request)).choices[0]?.message.tool_calls?.[0];
    const wholeArguments = expectValidCall(whole, ["get_weather"]);

    const stream = client.chat.completions.stream({ ...request, stream: true });
    const pieces: string[] = [];
    stream.on("tool_calls.function.arguments.delta", (event) => pieces.push(event.arguments_delta));
    const final = await stream.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(expectValidCall(streamed, ["get_weather"])).toEqual(wholeArguments);
    expect(pieces.length).toBeGreaterThan(1);
  });

  it("answers after a tool message, with the call and its result in the prompt", async () => {
    const first = await client.chat.completions.create({ model: MODEL_NAME, messages: ASK_WEATHER, tools: [WEATHER_TOOL], tool_choice: "required", seed: 3 });
    const message = first.choices[0]?.message;
    const call = message?.tool_calls?.[0];
    if (message === undefined || call === undefined) throw new Error("expected a tool call");
    const result = JSON.stringify({ temperature: 21, sky: "clear" });
    const second = await client.chat.completions.create({
      model: MODEL_NAME,
      messages: [...ASK_WEATHER, message, { role: "tool", tool_call_id: call.id, content: result }],
      tools: [WEATHER_TOOL],
      seed: 3,
      max_tokens: 12,
    });
    const answer = second.choices[0];
    expect(answer?.message.tool_calls ?? []).toEqual([]);
    expect(answer?.message.content?.length).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(answer?.finish_reason);
    // The call and its result (dozens of byte tokens) are part of the second prompt.
    expect(second.usage?.prompt_tokens ?? 0).toBeGreaterThan((first.usage?.prompt_tokens ?? 0) + result.length);
  });

  it("answers in text without describing the tools when tool_choice is none", async () => {
    const base = { model: MODEL_NAME, messages: ASK_WEATHER, seed: 2, max_tokens: 8 };
    const none = await client.chat.completions.create({ ...base, tools: [WEATHER_TOOL], tool_choice: "none" });
    const plain = await client.chat.completions.create(base);
    expect(none.choices[0]?.message.tool_calls ?? []).toEqual([]);
    expect(none.choices[0]?.message.content).toBe(plain.choices[0]?.message.content);
    expect(none.usage?.prompt_tokens).toBe(plain.usage?.prompt_tokens);
  });

  // The random tiny model, offered a tool it need not call, writes text: that answer is held to
  // the format. Required to call, it calls, and the format (for a text answer) does not apply.
  it("answers in the response format beside tools when the model writes text, streamed or not, and calls when it must", async () => {
    const schema = { type: "object", properties: { answer: { enum: ["yes", "no"] } }, required: ["answer"], additionalProperties: false };
    const format = { type: "json_schema", json_schema: { name: "verdict", schema, strict: true } } as const;
    for (const seed of [1, 2, 3]) {
      const request = { model: MODEL_NAME, messages: ASK_WEATHER, tools: [WEATHER_TOOL], response_format: format, seed, max_tokens: 40 } satisfies ChatCompletionCreateParamsNonStreaming;
      const whole = await client.chat.completions.create(request);
      const choice = whole.choices[0];
      expect(choice?.finish_reason).toBe("stop");
      expect(choice?.message.tool_calls ?? []).toEqual([]);
      expect(JSON.parse(choice?.message.content ?? "")).toEqual({ answer: expect.stringMatching(/^(yes|no)$/) });
      // Every token generated counts, the first try's included, and none past max_tokens.
      expect(whole.usage?.completion_tokens).toBeGreaterThanOrEqual(4);
      expect(whole.usage?.completion_tokens).toBeLessThanOrEqual(40);

      // Streamed, only the answer in the format reaches the client, nothing of the first try.
      const stream = await client.chat.completions.create({ ...request, stream: true });
      let content = "";
      for await (const chunk of stream) {
        content += chunk.choices[0]?.delta.content ?? "";
        expect(chunk.choices[0]?.delta.tool_calls).toBeUndefined();
      }
      expect(content).toBe(choice?.message.content);
    }
    const required = await client.chat.completions.create({ model: MODEL_NAME, messages: ASK_WEATHER, tools: [WEATHER_TOOL], tool_choice: "required", response_format: format, seed: 1 });
    expect(required.choices[0]?.finish_reason).toBe("tool_calls");
    expectValidCall(required.choices[0]?.message.tool_calls?.[0], ["get_weather"]);
  });

  it("refuses a strict tool whose parameters schema the grammar cannot enforce, naming the tool and the keyword", async () => {
    const tool = { type: "function", function: { name: "lookup", strict: true, parameters: { type: "object", properties: { code: { type: "string", pattern: "^(?!X)[A-Z]+$" } } } } };
    const response = await post(worker, "/v1/chat/completions", { model: MODEL_NAME, messages: ASK_WEATHER, tools: [WEATHER_TOOL, tool], tool_choice: "auto" });
    expect(response.status).toBe(400);
    const { error } = await json<ErrorBody>(response);
    expect(error.message).toContain('Tool "lookup"');
    expect(error.message).toContain("tools[1].function.parameters.properties.code.pattern");
    expect(error.param).toBe("tools[1].function.parameters");
    // The same when tool_choice names the other tool: every tool is checked.
    const named = await post(worker, "/v1/chat/completions", { model: MODEL_NAME, messages: ASK_WEATHER, tools: [WEATHER_TOOL, tool], tool_choice: { type: "function", function: { name: "get_weather" } } });
    expect(named.status).toBe(400);
  });

  it("refuses a parameters schema or a response format nested thousands of levels deep with 400 naming it, streamed or not", async () => {
    // The hostile probe's shape, which overflowed the stack of relaxedSchema: property `a` of
    // property `a` of…, written as text since JSON.stringify itself overflows on it.
    const deep = `${'{"type":"object","properties":{"a":'.repeat(2_500)}{"type":"string"}${"}}".repeat(2_500)}`;
    const tool = `{"type":"function","function":{"name":"deep","parameters":${deep}}}`;
    const cases: Array<[string, string]> = [
      [`"tools":[${tool}]`, "tools[0].function.parameters"],
      [`"tools":[${tool}],"stream":true`, "tools[0].function.parameters"],
      [`"response_format":{"type":"json_schema","json_schema":{"name":"deep","schema":${deep}}}`, "response_format.json_schema.schema"],
    ];
    for (const [fields, param] of cases) {
      const body = `{"model":${JSON.stringify(MODEL_NAME)},"messages":${JSON.stringify(ASK_WEATHER)},${fields}}`;
      const response = await fetch(`${worker.url}/v1/chat/completions`, { method: "POST", headers: jsonHeaders(worker), body });
      expect(response.status, param).toBe(400);
      expect((await json<ErrorBody>(response)).error).toMatchObject({ code: "invalid_request", param });
    }
  });

  it("calls a tool that is not strict with arguments of its schema's shape and bounds, what cannot be enforced relaxed, as agents' tools need", async () => {
    // The shape of Claude Code's own tool schemas: bounds and propertyNames (an enum keeps the
    // random-weights model's string short, so the call ends well inside the context); the
    // pattern beside the enum is left to the model.
    const parameters = {
      type: "object",
      properties: {
        path: { type: "string", enum: ["/etc/hosts", "/tmp/a"], pattern: "^/" },
        offset: { type: "integer", minimum: 0 },
        meta: { type: "object", propertyNames: { type: "string" }, additionalProperties: { type: "boolean" } },
      },
      required: ["path", "offset"],
      additionalProperties: false,
    };
    const tool = { type: "function", function: { name: "read_file", parameters } };
    const response = await post(worker, "/v1/chat/completions", { model: MODEL_NAME, messages: ASK_WEATHER, tools: [tool], tool_choice: "required", seed: 4 });
    expect(response.status).toBe(200);
    const call = (await json<{ choices: { message: { tool_calls: { function: { name: string; arguments: string } }[] } }[] }>(response)).choices[0]?.message.tool_calls[0];
    expect(call?.function.name).toBe("read_file");
    const args = JSON.parse(call?.function.arguments ?? "") as Record<string, unknown>;
    expect(["/etc/hosts", "/tmp/a"]).toContain(args.path);
    expect(Number.isInteger(args.offset) && (args.offset as number) >= 0, String(args.offset)).toBe(true);
  });

  it("calls a strict tool with arguments within its bounds, pattern and format, as OpenAI's strict mode promises", async () => {
    const parameters = {
      type: "object",
      properties: {
        quantity: { type: "integer", minimum: 1, maximum: 500 },
        discount: { type: "number", minimum: 0, exclusiveMaximum: 1 },
        sku: { type: "string", pattern: "^SKU-[0-9]{4}$" },
        order: { type: "string", format: "uuid" },
      },
      required: ["quantity", "discount", "sku", "order"],
      additionalProperties: false,
    };
    const tool = { type: "function" as const, function: { name: "place_order", strict: true, parameters } };
    for (const seed of [1, 2, 3]) {
      const completion = await client.chat.completions.create({ model: MODEL_NAME, messages: ASK_WEATHER, tools: [tool], tool_choice: "required", seed, max_tokens: 300 });
      const call = completion.choices[0]?.message.tool_calls?.[0];
      expect(call?.type === "function" && call.function.name).toBe("place_order");
      const args = JSON.parse(call?.type === "function" ? call.function.arguments : "") as { quantity: number; discount: number; sku: string; order: string };
      expect(Number.isInteger(args.quantity) && args.quantity >= 1 && args.quantity <= 500, JSON.stringify(args)).toBe(true);
      expect(args.discount >= 0 && args.discount < 1, JSON.stringify(args)).toBe(true);
      expect(args.sku).toMatch(/^SKU-[0-9]{4}$/);
      expect(args.order).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });

  it("refuses a tool message that answers no call of the assistant message before it", async () => {
    const response = await post(worker, "/v1/chat/completions", {
      model: MODEL_NAME,
      messages: [...ASK_WEATHER, { role: "tool", tool_call_id: "call_x", content: "sunny" }],
    });
    expect(response.status).toBe(400);
    expect((await json<ErrorBody>(response)).error.param).toBe("messages[2].role");
  });

  it("returns no part of a function call's opening as text when max_tokens cuts within it", async () => {
    // ChatML's calls open with "||call: "; every token forced to "|", max_tokens cuts after two.
    const response = await post(worker, "/v1/chat/completions", { model: MODEL_NAME, messages: ASK_WEATHER, tools: [WEATHER_TOOL], max_tokens: 2, logit_bias: { [tinyTokenId("|")]: 100 } });
    const body = await json<{ choices: Array<{ message: { content: string | null }; finish_reason: string }> }>(response);
    expect(body.choices[0]?.finish_reason).toBe("length");
    expect(body.choices[0]?.message.content ?? "").not.toContain("|");
  });

  it("counts the tools' definitions in a prompt too long for the context, and says so", async () => {
    const response = await post(worker, "/v1/chat/completions", { model: MODEL_NAME, messages: ASK_WEATHER, tools: [WEATHER_TOOL], max_tokens: 5000 });
    expect(response.status).toBe(400);
    expect((await json<ErrorBody>(response)).error).toMatchObject({ code: "context_length_exceeded", param: "max_tokens", message: expect.stringMatching(/ in the messages and tools \+ 5000 to generate\)$/) });
  });

  it("refuses an assistant message that gives two calls one id, naming the second as such", async () => {
    const call = { id: "call_a", type: "function", function: { name: "get_weather", arguments: "{}" } };
    const response = await post(worker, "/v1/chat/completions", {
      model: MODEL_NAME,
      messages: [...ASK_WEATHER, { role: "assistant", content: null, tool_calls: [call, call] }, { role: "tool", tool_call_id: "call_a", content: "sunny" }],
    });
    expect(response.status).toBe(400);
    expect((await json<ErrorBody>(response)).error).toMatchObject({
      param: "messages[2].tool_calls[1].id",
      message: 'messages[2].tool_calls[1].id: tool call id "call_a" is given twice in this message; each call needs its own id',
    });
  });
});
