// The Responses API and Anthropic Messages dialects for real: the official `openai` client's
// responses.create and the official `@anthropic-ai/sdk` client's messages.create → queen
// (workerd) → hive process → worker process (llama.cpp, tiny model) and back, through the same
// placement path as chat completions: text, and tool calls the grammar forces even from the
// tiny model's random weights (whole and streamed, and a second turn answering the call).
// dialect-translation.test.ts tests the translations on their own.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloud, startLocalCloud, TINY_MODEL } from "./local-cloud.js";

describe("dialects end to end: Responses and Anthropic Messages through the queen", () => {
  let cloud: LocalCloud;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: "dialect-hive" });
    const worker = await cloud.client.spawnWorker({ hive: "dialect-hive", model: TINY_MODEL, source: cloud.modelSource });
    await cloud.client.waitForWorkerReady(worker.id, 60_000);
    openai = new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: cloud.apiKey, maxRetries: 0 });
    // apiKey: the SDK sends it as x-api-key, as Claude Code does.
    anthropic = new Anthropic({ baseURL: cloud.queen.url, apiKey: cloud.apiKey, maxRetries: 0 });
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  /** POSTs raw JSON to the queen with `headers`; returns status and parsed body. */
  async function post(path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${cloud.apiKey}` }) {
    const response = await fetch(`${cloud.queen.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  describe("POST /v1/responses", () => {
    const ask = { model: TINY_MODEL, instructions: "Be brief.", input: "Say something.", temperature: 0, max_output_tokens: 12 };

    it("answers with a response whose output text the client reads, and usage", async () => {
      const response = await openai.responses.create(ask);
      expect(response.id).toMatch(/^resp_/);
      expect(response.object).toBe("response");
      expect(response.output_text.length).toBeGreaterThan(0);
      expect(response.output[0]?.type).toBe("message");
      expect(response.status).toBe("incomplete"); // the tiny model runs to max_output_tokens
      expect(response.incomplete_details?.reason).toBe("max_output_tokens");
      expect(response.usage?.input_tokens).toBeGreaterThan(0);
      expect(response.usage?.output_tokens).toBeGreaterThan(0);
    });

    it("streams typed events in sequence that spell the same text as the whole answer", async () => {
      const whole = await openai.responses.create(ask);
      const stream = await openai.responses.create({ ...ask, stream: true });
      const types: string[] = [];
      const sequence: number[] = [];
      let text = "";
      let final: OpenAI.Responses.Response | undefined;
      for await (const event of stream) {
        types.push(event.type);
        sequence.push(event.sequence_number);
        if (event.type === "response.output_text.delta") text += event.delta;
        if (event.type === "response.completed" || event.type === "response.incomplete") final = event.response;
      }
      expect(text).toBe(whole.output_text);
      expect(sequence).toEqual(sequence.map((_, index) => index));
      expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
      expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.incomplete"]);
      expect(final?.usage?.output_tokens).toBeGreaterThan(0);
      expect(await openai.responses.retrieve(final?.id ?? "")).toMatchObject({ id: final?.id, status: "incomplete" });
    });

    it("continues a conversation with previous_response_id: the stored turn is part of the next prompt", async () => {
      const first = await openai.responses.create(ask);
      const alone = await openai.responses.create({ ...ask, input: "And more?" });
      const second = await openai.responses.create({ ...ask, input: "And more?", previous_response_id: first.id });
      expect(second.previous_response_id).toBe(first.id);
      // The first turn's input and output come before the second's: many more prompt tokens.
      expect(second.usage?.input_tokens).toBeGreaterThan((alone.usage?.input_tokens ?? 0) + (first.usage?.output_tokens ?? 0));
    });

    it("counts a request's input tokens as its answer's usage counts them, a stored conversation's and one past the context too", async () => {
      const { model, instructions, input } = ask;
      const answered = await openai.responses.create(ask);
      expect(await openai.responses.inputTokens.count({ model, instructions, input })).toEqual({ object: "response.input_tokens", input_tokens: answered.usage?.input_tokens });
      const next = await openai.responses.create({ ...ask, input: "And more?", previous_response_id: answered.id });
      expect((await openai.responses.inputTokens.count({ model, instructions, input: "And more?", previous_response_id: answered.id })).input_tokens).toBe(next.usage?.input_tokens);
      const long = "y".repeat(6000);
      expect((await openai.responses.inputTokens.count({ model, input: long })).input_tokens).toBeGreaterThan(6000);
      await expect(openai.responses.create({ ...ask, input: long })).rejects.toMatchObject({ status: 400 });
      await expect(openai.responses.inputTokens.count({ model, input, previous_response_id: "resp_unknown" })).rejects.toMatchObject({ status: 404, param: "previous_response_id" });
    });

    it("refuses to cancel a stored response, which is complete (rbee runs no background responses), and names an unknown one", async () => {
      const stored = await openai.responses.create(ask);
      await expect(openai.responses.cancel(stored.id)).rejects.toMatchObject({ status: 400, message: expect.stringContaining("only a background response can be cancelled") });
      await expect(openai.responses.cancel("resp_unknown")).rejects.toMatchObject({ status: 404, code: "response_not_found" });
    });

    it("lists a response's input items, its previous turns included, newest first, a page at a time", async () => {
      const first = await openai.responses.create({ ...ask, input: [{ role: "developer", content: "Answer in English." }, { role: "user", content: "Say something." }] });
      const second = await openai.responses.create({ ...ask, input: "And more?", previous_response_id: first.id });
      // The worker's slot held the first turn: the second's prompt starts with it, and says so.
      expect(second.usage?.input_tokens_details.cached_tokens).toBeGreaterThanOrEqual(first.usage?.input_tokens ?? Infinity);

      const listed = await openai.responses.inputItems.list(second.id);
      // What the second turn was made from: the first turn's input and output, then its own input.
      const expected = [
        { type: "message", role: "developer", content: [{ type: "input_text", text: "Answer in English." }], status: "completed" },
        { type: "message", role: "user", content: [{ type: "input_text", text: "Say something." }], status: "completed" },
        { type: "message", role: "assistant", id: first.output[0]?.id, content: [{ type: "output_text", text: first.output_text }] },
        { type: "message", role: "user", content: [{ type: "input_text", text: "And more?" }], status: "completed" },
      ].reverse();
      expect(listed.data).toMatchObject(expected);
      expect(listed.data.map((item) => item.id)).toEqual(expect.arrayContaining([expect.stringMatching(/^msg_/)]));
      expect(listed.has_more).toBe(false);
      // The ids are the stored items' own: the first turn's input has the same ids listed under it.
      const firstListed = await openai.responses.inputItems.list(first.id, { order: "asc" });
      expect(firstListed.data.map((item) => item.id)).toEqual(listed.data.slice(2).reverse().map((item) => item.id));

      // Pages of two, oldest first, each from the last id of the one before.
      const page = await openai.responses.inputItems.list(second.id, { order: "asc", limit: 2 });
      expect(page.data.map((item) => item.id)).toEqual([...listed.data].reverse().slice(0, 2).map((item) => item.id));
      expect(page.has_more).toBe(true);
      const rest = await openai.responses.inputItems.list(second.id, { order: "asc", limit: 2, after: page.data[1]?.id });
      expect(rest.data.map((item) => item.id)).toEqual([...listed.data].reverse().slice(2).map((item) => item.id));
      expect(rest.has_more).toBe(false);
      // The SDK's own paging walks them all.
      const walked: string[] = [];
      for await (const item of openai.responses.inputItems.list(second.id, { limit: 1 })) walked.push(item.id ?? "");
      expect(walked).toEqual(listed.data.map((item) => item.id));

      await expect(openai.responses.inputItems.list(second.id, { after: "msg_nowhere" })).rejects.toMatchObject({ status: 400, param: "after" });
      await expect(openai.responses.inputItems.list(second.id, { limit: 101 })).rejects.toMatchObject({ status: 400, param: "limit" });
      await expect(openai.responses.inputItems.list(second.id, { include: ["message.output_text.logprobs"] })).rejects.toMatchObject({ status: 400, param: "include" });
      await expect(openai.responses.inputItems.list("resp_unknown")).rejects.toMatchObject({ status: 404 });
    });

    it("gets and deletes a stored response for its own key only, and forgets store:false ones", async () => {
      const made = await openai.responses.create(ask);
      expect((await openai.responses.retrieve(made.id)).output_text).toBe(made.output_text);
      // Its events are not kept to replay, nor anything to include: refused by name, never an empty stream.
      await expect(openai.responses.retrieve(made.id, { stream: true })).rejects.toMatchObject({ status: 400, param: "stream" });
      await expect(openai.responses.retrieve(made.id, { include: ["message.output_text.logprobs"] })).rejects.toMatchObject({ status: 400, param: "include" });

      const created = await post("/v1/keys", { name: "other client", scopes: ["inference"] });
      const other = new OpenAI({ baseURL: `${cloud.queen.url}/v1`, apiKey: String(created.body.key), maxRetries: 0 });
      await expect(other.responses.retrieve(made.id)).rejects.toMatchObject({ status: 404 });
      await expect(other.responses.delete(made.id)).rejects.toMatchObject({ status: 404 });
      await expect(other.responses.create({ ...ask, previous_response_id: made.id })).rejects.toMatchObject({ status: 404, param: "previous_response_id" });

      await openai.responses.delete(made.id);
      await expect(openai.responses.retrieve(made.id)).rejects.toMatchObject({ status: 404 });

      const unstored = await openai.responses.create({ ...ask, store: false });
      await expect(openai.responses.retrieve(unstored.id)).rejects.toMatchObject({ status: 404 });
    });

    it("refuses fields it cannot honour with a 400 naming them", async () => {
      for (const [field, value, param] of [
        ["background", true, "background"],
        ["reasoning", { effort: "high" }, "reasoning"],
        ["tools", [{ type: "web_search" }], "tools[0].type"],
        ["input", [{ role: "user", content: [{ type: "input_image", image_url: "https://x/y.png" }] }], "input[0].content[0].type"],
        ["include", ["reasoning.encrypted_content"], "include"],
      ] as const) {
        const refused = await post("/v1/responses", { ...ask, [field]: value });
        expect(refused.status, field).toBe(400);
        expect(refused.body.error, field).toMatchObject({ param });
      }
    });
    it("names the Responses field at fault when the chat request made from it is refused, by the queen or by the worker", async () => {
      const overflow = await post("/v1/responses", { ...ask, input: "word ".repeat(6000) });
      expect(overflow.status).toBe(400);
      expect(overflow.body.error).toMatchObject({ code: "context_length_exceeded", param: "input" });
      const tooLong = await post("/v1/responses", { ...ask, max_output_tokens: 100_000 });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error).toMatchObject({ code: "context_length_exceeded", param: "max_output_tokens" });
      // The message speaks of the Responses request too, not of the chat request made from it.
      expect(String((tooLong.body.error as { message: string }).message)).toMatch(/ in the input \+ 100000 to generate\)$/);
      const unanswered = await post("/v1/responses", { ...ask, input: [{ type: "message", role: "user", content: "Hi" }, { type: "function_call", call_id: "call_a", name: "get_time", arguments: "{}" }] });
      expect(unanswered.status).toBe(400);
      expect(unanswered.body.error).toMatchObject({ param: "input[1].call_id", message: "input[1]: no function_call_output answers this function_call (call_id 'call_a'); send one for each call" });
      const orphan = await post("/v1/responses", { ...ask, input: [{ type: "message", role: "user", content: "Hi" }, { type: "function_call_output", call_id: "call_nope", output: "42" }] });
      expect(orphan.status).toBe(400);
      expect(orphan.body.error).toMatchObject({ param: "input[1].call_id", message: expect.stringContaining("call_id 'call_nope'") });
      const strict = { type: "json_schema", name: "code", strict: true, schema: { type: "object", properties: { code: { type: "string", pattern: "^(?!X)[A-Z]+$" } } } };
      const unenforceable = await post("/v1/responses", { ...ask, text: { format: strict } });
      expect(unenforceable.status).toBe(400);
      expect(unenforceable.body.error).toMatchObject({ code: "unsupported_json_schema", param: "text.format.schema" });
      expect(String((unenforceable.body.error as { message: string }).message)).toContain("text.format.schema.properties.code.pattern");
    });
  });

  describe("POST /v1/messages", () => {
    const ask = { model: TINY_MODEL, system: "Be brief.", messages: [{ role: "user" as const, content: "Say something." }], temperature: 0, max_tokens: 12 };

    it("answers with a message of text blocks, its stop reason and usage, authenticated by x-api-key", async () => {
      const message = await anthropic.messages.create(ask);
      expect(message.id).toMatch(/^msg_/);
      expect(message.type).toBe("message");
      expect(message.role).toBe("assistant");
      expect(message.content[0]?.type).toBe("text");
      expect(message.content[0]?.type === "text" ? message.content[0].text.length : 0).toBeGreaterThan(0);
      expect(message.stop_reason).toBe("max_tokens");
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      // Counts the SDK types as numbers, which clients add to the input tokens.
      expect(message.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
      // The SDK reads the request id from Anthropic's header.
      expect(message._request_id).toMatch(/^req_/);
    });

    it("says which stop sequence ended an answer, whole and streamed", async () => {
      const long = { ...ask, max_tokens: 40 };
      const first = await anthropic.messages.create(long);
      const text = first.content[0]?.type === "text" ? first.content[0].text : "";
      const stop = text.slice(20, 23);
      const stopped = await anthropic.messages.create({ ...long, stop_sequences: ["never-generated", stop] });
      expect(stopped).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: stop, content: [{ type: "text", text: text.slice(0, text.indexOf(stop)) }] });
      const streamed = await anthropic.messages.stream({ ...long, stop_sequences: [stop] }).finalMessage();
      expect(streamed).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: stop });
      // Cut by max_tokens: no stop sequence.
      expect(first).toMatchObject({ stop_reason: "max_tokens", stop_sequence: null });
    });

    it("streams Anthropic's events, which the client assembles into the same message", async () => {
      const whole = await anthropic.messages.create(ask);
      const types: string[] = [];
      let startInputTokens: number | undefined;
      const stream = anthropic.messages.stream(ask);
      stream.on("streamEvent", (event) => {
        types.push(event.type);
        if (event.type === "message_start") startInputTokens = event.message.usage.input_tokens;
      });
      const streamed = await stream.finalMessage();
      expect(streamed.content).toEqual(whole.content);
      expect(streamed.stop_reason).toBe("max_tokens");
      expect(streamed.usage.output_tokens).toBe(whole.usage.output_tokens);
      // As Anthropic's own: message_start already names the prompt's tokens (the worker's stream head carries them).
      expect(startInputTokens).toBe(whole.usage.input_tokens);
      expect(startInputTokens).toBeGreaterThan(0);
      expect(types.slice(0, 3)).toEqual(["message_start", "content_block_start", "content_block_delta"]);
      expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    });

    it("answers structured outputs (output_config.format, and the beta's output_format) with JSON of the schema", async () => {
      const schema = { type: "object", properties: { answer: { type: "integer", minimum: 1, maximum: 9 }, note: { type: "string", maxLength: 20 } }, required: ["answer", "note"], additionalProperties: false };
      for (const format of [{ output_config: { format: { type: "json_schema", schema } } }, { output_format: { type: "json_schema", schema } }]) {
        const answered = await post("/v1/messages", { ...ask, max_tokens: 200, ...format }, { "x-api-key": cloud.apiKey });
        expect(answered.status, JSON.stringify(answered.body)).toBe(200);
        const text = (answered.body.content as Array<{ type: string; text: string }>)[0]?.text ?? "";
        const parsed = JSON.parse(text) as { answer: number; note: string };
        expect(Object.keys(parsed).sort()).toEqual(["answer", "note"]);
        expect(parsed.answer).toBeGreaterThanOrEqual(1);
        expect(parsed.answer).toBeLessThanOrEqual(9);
      }
      const unenforceable = { type: "object", properties: { code: { type: "string", pattern: "^(?!X)[A-Z]+$" } } };
      const refused = await post("/v1/messages", { ...ask, output_config: { format: { type: "json_schema", schema: unenforceable } } }, { "x-api-key": cloud.apiKey });
      expect(refused.status).toBe(400);
      expect(String((refused.body.error as { message: string }).message)).toContain("output_config.format.schema.properties.code.pattern");
      // Named as the client wrote it: the beta's output_format.
      const refusedBeta = await post("/v1/messages", { ...ask, output_format: { type: "json_schema", schema: unenforceable } }, { "x-api-key": cloud.apiKey });
      expect(refusedBeta.status).toBe(400);
      expect(String((refusedBeta.body.error as { message: string }).message)).toContain("output_format.schema.properties.code.pattern");
    });

    it("lists and retrieves models in Anthropic's shape for Anthropic's client", async () => {
      const listed = [];
      for await (const model of anthropic.models.list()) listed.push(model);
      expect(listed).toContainEqual(expect.objectContaining({ type: "model", id: TINY_MODEL, display_name: TINY_MODEL, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }));
      const retrieved = await anthropic.models.retrieve(TINY_MODEL).withResponse();
      expect(retrieved.data).toMatchObject({ type: "model", id: TINY_MODEL });
      // The request id where Anthropic's SDK reads it, and a refusal in Anthropic's error shape.
      expect(retrieved.request_id).toMatch(/^req_/);
      const missing = await anthropic.models.retrieve("no-such-model").catch((error: unknown) => error);
      expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
      expect(missing).toMatchObject({ requestID: expect.stringMatching(/^req_/), error: { type: "error", error: { type: "not_found_error" } } });
      // OpenAI's clients still get OpenAI's shape.
      expect((await openai.models.retrieve(TINY_MODEL)).object).toBe("model");
      const openAiMissing = await openai.models.retrieve("no-such-model").catch((error: unknown) => error);
      expect(openAiMissing).toMatchObject({ status: 404, code: "model_not_found" });
      // The OpenAI routes answer in OpenAI's shape whatever headers a gateway passes on.
      const passedOn = await post("/v1/chat/completions", { model: "no-such-model", messages: [{ role: "user", content: "hi" }] }, { authorization: `Bearer ${cloud.apiKey}`, "anthropic-version": "2023-06-01" });
      expect(passedOn).toMatchObject({ status: 404, body: { error: { code: "model_not_found" } } });
    });

    it("counts a prompt's tokens as the worker's tokenizer does", async () => {
      const { model, system, messages } = ask;
      const counted = await anthropic.messages.countTokens({ model, system, messages });
      const answered = await anthropic.messages.create(ask);
      expect(counted.input_tokens).toBe(answered.usage.input_tokens);
      // Counted without generating: a prompt past the worker's context, which no answer can take, is counted too.
      const long = [{ role: "user" as const, content: "y".repeat(6000) }];
      expect((await anthropic.messages.countTokens({ model, messages: long })).input_tokens).toBeGreaterThan(6000);
      await expect(anthropic.messages.create({ ...ask, messages: long })).rejects.toMatchObject({ status: 400 });
    });

    it("answers errors in Anthropic's shape, a missing key and a refused field included", async () => {
      const unauthenticated = await post("/v1/messages", ask, { "anthropic-version": "2023-06-01" });
      expect(unauthenticated).toMatchObject({ status: 401, body: { type: "error", error: { type: "authentication_error" } } });

      const refused = await post("/v1/messages", { ...ask, thinking: { type: "enabled", budget_tokens: 1024 } }, { "x-api-key": cloud.apiKey });
      expect(refused).toMatchObject({ status: 400, body: { type: "error", error: { type: "invalid_request_error" } } });
      expect(String((refused.body.error as { message: string }).message)).toContain("thinking");

      const image = { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } };
      const noVision = await post("/v1/messages", { ...ask, messages: [{ role: "user", content: [image] }] }, { "x-api-key": cloud.apiKey });
      expect(noVision.status).toBe(400);
      expect(String((noVision.body.error as { message: string }).message)).toContain("messages[0].content[0].type");

      // Named as the client wrote it: "any", which the chat request it is served as calls "required".
      const anyWithoutTools = await post("/v1/messages", { ...ask, tool_choice: { type: "any" } }, { "x-api-key": cloud.apiKey });
      expect(anyWithoutTools.status).toBe(400);
      expect(String((anyWithoutTools.body.error as { message: string }).message)).toContain('tool_choice: {"type": "any"} needs tools');

      // A strict tool is enforced whole or refused, naming the Messages field (the chat request's is tools[0].function.parameters).
      const strictTool = { name: "lookup", strict: true, input_schema: { type: "object", properties: { code: { type: "string", pattern: "^(?!X)[A-Z]+$" } } } };
      const unenforceable = await post("/v1/messages", { ...ask, tools: [strictTool], tool_choice: { type: "any" } }, { "x-api-key": cloud.apiKey });
      expect(unenforceable.status).toBe(400);
      expect(String((unenforceable.body.error as { message: string }).message)).toContain("tools[0].input_schema.properties.code.pattern");

      await expect(anthropic.messages.create({ ...ask, model: "no-such-model" })).rejects.toMatchObject({ status: 404, error: { type: "error", error: { type: "not_found_error" } } });
      // A tool_choice naming no tool is named by the Messages field, not the chat request's.
      const tools = [{ name: "get_weather", input_schema: { type: "object" as const, properties: {} } }];
      const unknownTool = anthropic.messages.create({ ...ask, tools, tool_choice: { type: "tool", name: "get_time" } });
      await expect(unknownTool).rejects.toMatchObject({ status: 400, message: expect.stringContaining("tool_choice.name") });
    });
  });

  it("names fields outside each dialect's API in x-rbee-ignored-fields, and no others", async () => {
    const headers = { "content-type": "application/json", authorization: `Bearer ${cloud.apiKey}` };
    const ask = async (path: string, body: unknown) => (await fetch(`${cloud.queen.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) })).headers.get("x-rbee-ignored-fields");
    expect(await ask("/v1/responses", { model: TINY_MODEL, input: "Hi", max_output_tokens: 2, user: "u1", cache_prompt: true })).toBe("cache_prompt");
    expect(await ask("/v1/messages", { model: TINY_MODEL, max_tokens: 2, messages: [{ role: "user", content: "Hi" }], metadata: {}, mirostat: 2 })).toBe("mirostat");
    expect(await ask("/v1/messages", { model: TINY_MODEL, max_tokens: 2, messages: [{ role: "user", content: "Hi" }] })).toBeNull();
  });

  it("answers a request whose unknown fields' names no header may carry, naming them percent-encoded", async () => {
    // Met by the fuzz-client drill: a NUL in a field's name made the queen's answer a 500.
    const body = { model: TINY_MODEL, messages: [{ role: "user", content: "Hi" }], max_tokens: 2, "a\u0000b": 1.5, "é\r\n,x": true };
    const answer = await fetch(`${cloud.queen.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${cloud.apiKey}` }, body: JSON.stringify(body) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-rbee-ignored-fields")).toBe("a%00b,%C3%A9%0D%0A%2Cx");
    await answer.json();
  });

  describe("tool calls", () => {
    const weather = {
      name: "get_weather",
      description: "The weather in a city",
      // An enum keeps the random-weights model's string short: the call is whole well inside max tokens.
      schema: { type: "object", properties: { city: { type: "string", enum: ["Paris", "Rome"] }, days: { type: "integer" } }, required: ["city", "days"], additionalProperties: false },
    };

    it("makes a Responses function call tool_choice forces, whole and streamed, and answers from its output next turn", async () => {
      const tools: OpenAI.Responses.Tool[] = [{ type: "function", name: weather.name, description: weather.description, parameters: weather.schema, strict: true }];
      const ask = { model: TINY_MODEL, input: "Weather in Paris?", tools, tool_choice: { type: "function" as const, name: weather.name }, temperature: 0, max_output_tokens: 256 };
      const whole = await openai.responses.create(ask);
      const call = whole.output.find((item) => item.type === "function_call");
      if (call?.type !== "function_call") throw new Error(`no function_call item in ${JSON.stringify(whole.output)}`);
      expect(call.name).toBe(weather.name);
      const args = JSON.parse(call.arguments) as Record<string, unknown>;
      expect(["Paris", "Rome"]).toContain(args.city);
      expect(Number.isInteger(args.days)).toBe(true);

      const stream = await openai.responses.create({ ...ask, stream: true });
      let streamedArguments = "";
      let done: OpenAI.Responses.Response | undefined;
      for await (const event of stream) {
        if (event.type === "response.function_call_arguments.delta") streamedArguments += event.delta;
        if (event.type === "response.completed" || event.type === "response.incomplete") done = event.response;
      }
      const streamedCall = done?.output.find((item) => item.type === "function_call");
      expect(streamedCall?.type === "function_call" ? streamedCall.arguments : undefined).toBe(streamedArguments);
      expect(() => JSON.parse(streamedArguments) as unknown).not.toThrow();

      const next = await openai.responses.create({
        model: TINY_MODEL,
        previous_response_id: whole.id,
        input: [{ type: "function_call_output", call_id: call.call_id, output: JSON.stringify({ sky: "clear" }) }],
        tools,
        tool_choice: "none",
        max_output_tokens: 8,
      });
      expect(next.output_text.length).toBeGreaterThan(0);
    });

    it("makes an Anthropic tool_use a forced tool_choice asks for, whole and streamed, and answers a tool_result", async () => {
      const tools: Anthropic.Tool[] = [{ name: weather.name, description: weather.description, input_schema: weather.schema as Anthropic.Tool.InputSchema }];
      const ask = { model: TINY_MODEL, max_tokens: 256, temperature: 0, messages: [{ role: "user" as const, content: "Weather in Paris?" }], tools, tool_choice: { type: "tool" as const, name: weather.name } };
      const whole = await anthropic.messages.create(ask);
      expect(whole.stop_reason).toBe("tool_use");
      const use = whole.content.find((block) => block.type === "tool_use");
      if (use?.type !== "tool_use") throw new Error(`no tool_use block in ${JSON.stringify(whole.content)}`);
      expect(use.name).toBe(weather.name);
      const input = use.input as Record<string, unknown>;
      expect(["Paris", "Rome"]).toContain(input.city);
      expect(Number.isInteger(input.days)).toBe(true);

      const streamed = await anthropic.messages.stream(ask).finalMessage();
      expect(streamed.stop_reason).toBe("tool_use");
      const streamedUse = streamed.content.find((block) => block.type === "tool_use");
      expect(streamedUse?.type === "tool_use" ? streamedUse.name : undefined).toBe(weather.name);

      const answered = await anthropic.messages.create({
        model: TINY_MODEL,
        max_tokens: 8,
        tools,
        tool_choice: { type: "none" },
        messages: [
          ask.messages[0] as Anthropic.MessageParam,
          { role: "assistant", content: whole.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "clear sky" }] },
        ],
      });
      expect(answered.content.some((block) => block.type === "text" && block.text.length > 0)).toBe(true);
    });
  });
});
