import { describe, expect, it } from "vitest";
import { type BodyKind, observeUsage } from "../../queen/usage/observe-usage.js";

const USAGE = '{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}';

/** Observes a body sent as `chunks`, reads it to the end, and returns what passed and the usage. */
async function observe(kind: BodyKind, chunks: string[]) {
  const encoder = new TextEncoder();
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const observed = observeUsage(source, kind);
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

  it("finds the usage of a JSON body split across chunks", async () => {
    expect((await observe("json", [USAGE.slice(0, 10), USAGE.slice(10)])).usage).toEqual({ promptTokens: 5, completionTokens: 3 });
  });
});
