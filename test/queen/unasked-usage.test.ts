import { describe, expect, it } from "vitest";
import { MAX_SSE_EVENT_CHARS } from "../../queen/streams/sse-data-reader.js";
import { askingForUsage, withoutUsageChunk } from "../../queen/usage/unasked-usage.js";

const TOKEN = 'data: {"choices":[{"delta":{"content":"é"}}]}\n\n';
const USAGE = 'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}\n\n';
const DONE = "data: [DONE]\n\n";

/** What a client reads of a body sent as byte `chunks`, through withoutUsageChunk. */
async function passed(chunks: Uint8Array[]): Promise<string> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  return new Response(withoutUsageChunk(source)).text();
}

/** `text` as UTF-8, cut at each of `cuts` (byte offsets), so a cut may fall inside a character. */
function cutAt(text: string, cuts: number[]): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const ends = [...cuts, bytes.length];
  return ends.map((end, i) => bytes.subarray(i === 0 ? 0 : ends[i - 1], end));
}

describe("a stream without its usage chunk", () => {
  it("passes every other event as it was, whatever the byte boundaries", async () => {
    const stream = `${TOKEN}${TOKEN}${USAGE}${DONE}`;
    const inCharacter = TOKEN.indexOf("é") + 1; // inside the two bytes of é
    for (const cuts of [[], [inCharacter], [inCharacter, TOKEN.length + 3, 2 * TOKEN.length + 40], [2 * TOKEN.length + 1]]) {
      expect(await passed(cutAt(stream, cuts))).toBe(`${TOKEN}${TOKEN}${DONE}`);
    }
  });

  it("keeps an event that mentions usage but has choices, and a stream that ends without a blank line", async () => {
    const withChoices = 'data: {"choices":[{"delta":{}}],"usage":null}\n\n';
    expect(await passed(cutAt(`${withChoices}${USAGE}data: [DONE]`, []))).toBe(`${withChoices}data: [DONE]`);
  });

  it("passes a run of text with no event end in it once it is longer than any event may be", async () => {
    const endless = `data: ${"x".repeat(MAX_SSE_EVENT_CHARS + 10)}`;
    expect(await passed(cutAt(`${endless}${"y".repeat(5)}`, [endless.length]))).toBe(`${endless}yyyyy`);
  });
});

describe("asking the worker for a stream's usage", () => {
  it("asks for it in a stream whose client did not, and says so; leaves the rest be", () => {
    expect(askingForUsage({ model: "m", stream: true })).toEqual({ request: { model: "m", stream: true, stream_options: { include_usage: true } }, unasked: true });
    const obfuscated = { model: "m", stream: true, stream_options: { include_obfuscation: false } };
    expect(askingForUsage(obfuscated).request).toEqual({ ...obfuscated, stream_options: { include_obfuscation: false, include_usage: true } });
    const asked = { model: "m", stream: true, stream_options: { include_usage: true } };
    expect(askingForUsage(asked)).toEqual({ request: asked, unasked: false });
    expect(askingForUsage({ model: "m", stream: false })).toEqual({ request: { model: "m", stream: false }, unasked: false });
    expect(askingForUsage({ model: "m", input: "embed me" })).toEqual({ request: { model: "m", input: "embed me" }, unasked: false });
  });
});
