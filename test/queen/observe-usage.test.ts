import { describe, expect, it } from "vitest";
import { type BodyKind, observeUsage } from "../../queen/usage/observe-usage.js";

const USAGE = '{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}';

/** Observes a body sent as `chunks`, reads it to the end, and returns what passed and the usage. */
async function observe(kind: BodyKind, chunks: string[], promptTokens?: number) {
  const encoder = new TextEncoder();
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const observed = observeUsage(source, kind, promptTokens);
  const text = await new Response(observed.body).text();
  return { text, usage: await observed.usage };
}

describe("observing a response's usage", () => {
  it("finds the usage chunk of a stream with CRLF line ends, split anywhere", async () => {
    const stream = `data: {"choices":[{"delta":{"content":"a"}}]}\r\n\r\ndata: ${USAGE}\r\n\r\ndata: [DONE]\r\n\r\n`;
    const chunks = [stream.slice(0, 50), stream.slice(50, 51), stream.slice(51, 90), stream.slice(90)];
    const { text, usage } = await observe("sse", chunks);
    expect(text).toBe(stream);
    expect(usage).toEqual({ promptTokens: 5, completionTokens: 3 });
  });

  it("finds the usage in an event whose data spans several data: lines", async () => {
    const stream = `data: {"choices":[],\ndata: "usage":{"prompt_tokens":9,\ndata: "completion_tokens":4}}\n\ndata: [DONE]\n\n`;
    expect((await observe("sse", [stream])).usage).toEqual({ promptTokens: 9, completionTokens: 4 });
  });

  it("skips an event too long to buffer, and still finds a usage chunk after it", async () => {
    const long = `data: {"choices":[{"delta":{"content":"${"x".repeat(1024 * 1024)}"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`;
    const chunks = [long.slice(0, 600_000), long.slice(600_000)];
    expect((await observe("sse", [...chunks, "\n\n"])).usage).toEqual({ promptTokens: 0, completionTokens: 0 });
    expect((await observe("sse", [...chunks, `\n\ndata: ${USAGE}\n\n`])).usage).toEqual({ promptTokens: 5, completionTokens: 3 });
  });

  it("counts a last event the stream ends without a blank line after", async () => {
    expect((await observe("sse", [`data: ${USAGE}`])).usage).toEqual({ promptTokens: 5, completionTokens: 3 });
  });

  it("charges a stream cut before its usage one completion token per event that carried text or a call", async () => {
    const chunk = (delta: string) => `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":${delta},"finish_reason":null}]}\n\n`;
    const opening = chunk('{"role":"assistant","content":""}');
    const texts = ['{"content":"Hel"}', '{"content":"lo"}', '{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}'].map(chunk);
    expect((await observe("sse", [opening, ...texts])).usage).toEqual({ promptTokens: 0, completionTokens: 3 });
    // Whole, its usage is the count: the estimate never raises it.
    expect((await observe("sse", [opening, ...texts, `data: ${USAGE}\n\n`])).usage).toEqual({ promptTokens: 5, completionTokens: 3 });
    const completion = (text: string) => `data: {"id":"c","object":"text_completion","choices":[{"index":0,"text":"${text}","finish_reason":null}]}\n\n`;
    expect((await observe("sse", [completion("a"), completion("b"), completion("")])).usage).toEqual({ promptTokens: 0, completionTokens: 2 });
  });

  it("charges a stream cut before its usage the prompt tokens its head named; a usage seen counts as it says", async () => {
    const text = 'data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n';
    expect((await observe("sse", [text, text], 41)).usage).toEqual({ promptTokens: 41, completionTokens: 2 });
    expect((await observe("sse", [text, `data: ${USAGE}\n\n`], 5)).usage).toEqual({ promptTokens: 5, completionTokens: 3 });
    // A message_start naming 0 input tokens (from a worker whose head named none) is no count of the prompt.
    const start = 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":0,"output_tokens":0}}}\n\n';
    expect((await observe("sse", [start], 41)).usage).toEqual({ promptTokens: 41, completionTokens: 0 });
  });

  it("charges an Anthropic or Responses stream cut before its end by its deltas, not by the usage its first event names", async () => {
    const start = 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":0,"output_tokens":0}}}\n\n';
    const delta = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}\n\n';
    expect((await observe("sse", [start, delta, delta, delta])).usage).toEqual({ promptTokens: 0, completionTokens: 3 });
    const created = 'data: {"type":"response.created","sequence_number":0,"response":{"usage":null}}\n\n';
    const textDelta = 'data: {"type":"response.output_text.delta","sequence_number":1,"delta":"x"}\n\n';
    const added = 'data: {"type":"response.content_part.added","sequence_number":2,"part":{"type":"output_text","text":""}}\n\n';
    expect((await observe("sse", [created, added, textDelta, textDelta])).usage).toEqual({ promptTokens: 0, completionTokens: 2 });
  });

  it("finds the usage of a JSON body split across chunks", async () => {
    expect((await observe("json", [USAGE.slice(0, 10), USAGE.slice(10)])).usage).toEqual({ promptTokens: 5, completionTokens: 3 });
  });
});
