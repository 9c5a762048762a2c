import { describe, expect, it } from "vitest";
import { parseRequest } from "../validation.js";
import { messageText } from "./chat-messages.js";
import { ChatCompletionRequest, MAX_LOGIT_BIAS_TOKENS } from "./chat-request.js";
import { CompletionRequest } from "./completion-request.js";
import { EmbeddingRequest } from "./embedding-request.js";
import { ignoredFields } from "./ignored-fields.js";
import { MAX_SCHEMA_DEPTH } from "./json-schema-field.js";

const TOOL = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };
const base = { model: "m", messages: [{ role: "user", content: "hi" }] };

/** `{"a": {"a": … {}}}`, `levels` objects deep, built without recursion. */
function nestedObject(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
}

/** A tool schema whose property `a` holds an object whose property `a`…, `properties` deep: the probe's shape. */
function nestedParameters(properties: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: "string" };
  for (let level = 0; level < properties; level++) schema = { type: "object", properties: { a: schema } };
  return schema;
}

/** The param of the 400 a body gets, or undefined when it is accepted. */
function refusedParam(body: Record<string, unknown>): string | undefined {
  try {
    parseRequest(ChatCompletionRequest, body);
    return undefined;
  } catch (error) {
    return (error as { param?: string }).param;
  }
}

describe("the chat request schema", () => {
  it("accepts a tool loop: an assistant message that only calls tools, and the tool message answering it", () => {
    const request = ChatCompletionRequest.parse({
      ...base,
      tools: [TOOL],
      tool_choice: "auto",
      parallel_tool_calls: false,
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "sunny" }] },
      ],
    });
    expect(request.messages[2]).toEqual({ role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: "sunny" }] });
  });

  it("takes more tools than OpenAI's 128, as Anthropic's Messages, which arrive as chat requests, have no such limit", () => {
    const tools = Array.from({ length: 200 }, (_, index) => ({ type: "function", function: { name: `tool_${index}` } }));
    expect(refusedParam({ ...base, tools })).toBeUndefined();
  });

  it("refuses an allowed_tools or custom tool choice by its type, and keeps zod's words for a malformed named one", () => {
    const refusal = (tool_choice: unknown) => {
      try {
        parseRequest(ChatCompletionRequest, { ...base, tools: [TOOL], tool_choice });
      } catch (error) {
        return error as { param?: string; message: string };
      }
      throw new Error("accepted");
    };
    expect(refusal({ type: "allowed_tools", allowed_tools: { mode: "auto", tools: [] } })).toMatchObject({
      param: "tool_choice",
      message: expect.stringContaining('not supported: "allowed_tools" tool choices; rbee takes "none", "auto", "required"'),
    });
    expect(refusal({ type: "custom", custom: { name: "x" } }).message).toContain('"custom" tool choices');
    expect(refusal({ type: "function" })).toMatchObject({ param: "tool_choice.function" });
  });

  it("refuses max_tokens and max_completion_tokens that differ, and takes the same limit twice", () => {
    expect(refusedParam({ ...base, max_tokens: 10, max_completion_tokens: 20 })).toBe("max_tokens");
    expect(refusedParam({ ...base, max_tokens: 10, max_completion_tokens: 10 })).toBeUndefined();
    expect(refusedParam({ ...base, max_tokens: 10, max_completion_tokens: null })).toBeUndefined();
  });

  it("refuses tool choices that cannot be met, naming the field", () => {
    expect(refusedParam({ ...base, tools: [TOOL], tool_choice: { type: "function", function: { name: "other" } } })).toBe("tool_choice.function.name");
    expect(refusedParam({ ...base, tool_choice: "required" })).toBe("tool_choice");
    expect(refusedParam({ ...base, tools: [TOOL, TOOL] })).toBe("tools[1].function.name");
    // A JSON response format beside tools holds a text answer (worker/text-answer-watch.ts).
    expect(refusedParam({ ...base, tools: [TOOL], tool_choice: "none", response_format: { type: "json_object" } })).toBeUndefined();
    expect(refusedParam({ ...base, tools: [TOOL], response_format: { type: "json_object" } })).toBeUndefined();
  });

  it("names the content part it refuses, and the deprecated function role", () => {
    const image = { role: "user", content: [{ type: "text", text: "see" }, { type: "image_url", image_url: { url: "x" } }] };
    expect(refusedParam({ ...base, messages: [image] })).toBe("messages[0].content[1].type");
    expect(refusedParam({ ...base, messages: [{ role: "function", name: "f", content: "x" }] })).toBe("messages[0].role");
    // An assistant's refusal part is text it wrote; a user has no refusal parts.
    const refusal = { role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] };
    expect(refusedParam({ ...base, messages: [{ role: "user", content: "x" }, refusal, { role: "user", content: "Why?" }] })).toBeUndefined();
    expect(messageText(ChatCompletionRequest.parse({ ...base, messages: [refusal] }).messages[0] ?? { content: null })).toBe("I can't.");
    expect(refusedParam({ ...base, messages: [{ role: "user", content: [{ type: "refusal", refusal: "no" }] }] })).toBe("messages[0].content[0].type");
  });

  it("takes logit_bias as token ids with biases from -100 to 100, naming a key that is no id or a bias out of range", () => {
    expect(refusedParam({ ...base, logit_bias: { "42": -100, "7": 100 } })).toBeUndefined();
    expect(refusedParam({ ...base, logit_bias: { hello: 5 } })).toBe("logit_bias.hello");
    expect(refusedParam({ ...base, logit_bias: { "-1": 5 } })).toBe("logit_bias.-1");
    expect(refusedParam({ ...base, logit_bias: { "42": 101 } })).toBe("logit_bias.42");
    expect(refusedParam({ ...base, logit_bias: Object.fromEntries(Array.from({ length: MAX_LOGIT_BIAS_TOKENS + 1 }, (_, id) => [String(id), 1])) })).toBe("logit_bias");
  });

  it("accepts the off values of refused fields", () => {
    expect(refusedParam({ ...base, logprobs: false, top_logprobs: 0, store: false, modalities: ["text"], logit_bias: {}, audio: null, n: 1 })).toBeUndefined();
  });

  it("takes stream: null as a whole answer, as OpenAI's SDK types allow, in chats and completions", () => {
    expect(ChatCompletionRequest.parse({ ...base, stream: null }).stream).toBeNull();
    expect(CompletionRequest.parse({ model: "m", prompt: "p", stream: null }).stream).toBeNull();
    expect(refusedParam({ ...base, stream: "yes" })).toBe("stream");
  });

  it("refuses a tool's parameters or a response format's schema nested deeper than the limit, naming the field", () => {
    const tool = (parameters: Record<string, unknown>) => ({ type: "function", function: { name: "deep", parameters } });
    const format = (schema: Record<string, unknown>) => ({ type: "json_schema", json_schema: { name: "deep", schema } });
    expect(refusedParam({ ...base, tools: [tool(nestedObject(MAX_SCHEMA_DEPTH))] })).toBeUndefined();
    expect(refusedParam({ ...base, tools: [TOOL, tool(nestedObject(MAX_SCHEMA_DEPTH + 1))] })).toBe("tools[1].function.parameters");
    expect(refusedParam({ ...base, response_format: format(nestedObject(MAX_SCHEMA_DEPTH)) })).toBeUndefined();
    expect(refusedParam({ ...base, response_format: format(nestedObject(MAX_SCHEMA_DEPTH + 1)) })).toBe("response_format.json_schema.schema");
    // The probe's sizes, which overflowed the worker's recursive schema walks, and far past them.
    expect(refusedParam({ ...base, tools: [tool(nestedParameters(2_500))] })).toBe("tools[0].function.parameters");
    expect(refusedParam({ ...base, response_format: format(nestedParameters(5_000)) })).toBe("response_format.json_schema.schema");
    expect(refusedParam({ ...base, tools: [tool(nestedObject(100_000))] })).toBe("tools[0].function.parameters");
    expect(() => parseRequest(ChatCompletionRequest, { ...base, tools: [tool(nestedParameters(2_500))] })).toThrow(
      `tools[0].function.parameters: nested more than ${MAX_SCHEMA_DEPTH} levels of objects and arrays deep`,
    );
  });

  it("refuses deep JSON in the keys a content part may carry, before anything relays it", () => {
    const deep = { ...base, messages: [{ role: "user", content: [{ type: "text", text: "hi", extra: [nestedObject(100_000)] }] }] };
    expect(refusedParam(deep)).toBe("messages[0].content[0].extra[0]");
    expect(refusedParam({ ...base, messages: [{ role: "user", content: [{ type: "text", text: "hi", extra: nestedObject(8) }] }] })).toBeUndefined();
    // Fields outside the API are stripped before the depth is measured: ignored, as any other.
    expect(refusedParam({ ...base, cache_prompt: nestedObject(100_000) })).toBeUndefined();
  });

  it("takes stream_options only with stream: true, in chat and completions alike", () => {
    const options = { stream_options: { include_usage: true } };
    expect(refusedParam({ ...base, ...options })).toBe("stream_options");
    expect(refusedParam({ ...base, ...options, stream: false })).toBe("stream_options");
    expect(refusedParam({ ...base, ...options, stream: true })).toBeUndefined();
    expect(refusedParam({ ...base, stream_options: null })).toBeUndefined();
    const completion = { model: "m", prompt: "p", ...options };
    expect(CompletionRequest.safeParse(completion).error?.issues[0]?.path).toEqual(["stream_options"]);
    expect(CompletionRequest.safeParse({ ...completion, stream: true }).success).toBe(true);
  });

  it("strips fields outside the API and tells which they were", () => {
    const body = { ...base, user: "u", cache_prompt: true, stream: true, stream_options: { include_usage: true } };
    expect(ChatCompletionRequest.parse(body)).not.toHaveProperty("cache_prompt");
    expect(ignoredFields(ChatCompletionRequest, body)).toEqual(["cache_prompt"]);
    expect(ignoredFields(CompletionRequest, { model: "m", prompt: "p", user: "u", typical_p: 1 })).toEqual(["typical_p"]);
    expect(ignoredFields(EmbeddingRequest, { model: "m", input: "x", truncate: true })).toEqual(["truncate"]);
  });
});

describe("the embeddings request schema", () => {
  it("refuses token ids (another tokenizer's) saying to send the text, and takes one or many texts", () => {
    const refusal = (input: unknown) => {
      try {
        parseRequest(EmbeddingRequest, { model: "m", input });
        return undefined;
      } catch (error) {
        return error as { param?: string; message: string };
      }
    };
    for (const ids of [[104, 101], [[104, 101], [33]]]) {
      expect(refusal(ids)).toMatchObject({ param: "input", message: expect.stringContaining("input: token ids are not supported: rbee's models each have their own vocabulary, so send the text itself") });
    }
    expect(refusal("one text")).toBeUndefined();
    expect(refusal(["two", "texts"])).toBeUndefined();
    expect(refusal([""])).toMatchObject({ param: "input[0]" });
  });
});
