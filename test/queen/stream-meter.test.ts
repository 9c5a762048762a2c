// Counting a streamed answer's tokens in the stage that relays it (queen/usage/stream-meter.ts,
// told by queen/streams/spliced-stream.ts), and leaving out the usage chunk a client did not ask
// for, run inside workerd: scripted worker streams, read as a client reads them.
import { describe, expect, it } from "vitest";
import { failoverStream, type FailoverStreamOptions } from "../../queen/streams/spliced-stream.js";
import { StreamMeter } from "../../queen/usage/stream-meter.js";
import { readClientStream, relayErrorEvent, scriptedStream, workerEvents } from "../support/sse-streams.js";

const CHAT = "/v1/chat/completions";
const chatRequest = { model: "tiny", messages: [{ role: "user", content: "Say hello." }], stream: true, max_tokens: 50 };

/** failoverStream over `first`, metered, with continuations served from `next` in order. */
function metered(first: Response, options: Partial<FailoverStreamOptions> = {}, next: Response[] = []) {
  const meter = new StreamMeter();
  const response = failoverStream({ request: chatRequest, path: CHAT, first, retry: async () => next.shift(), meter, ...options });
  return { response, meter };
}

/** `text` as UTF-8, cut at each of `cuts` (byte offsets), so a cut may fall inside a character. */
function cutAt(text: string, cuts: number[]): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const ends = [...cuts, bytes.length];
  return ends.map((end, i) => bytes.subarray(i === 0 ? 0 : ends[i - 1], end));
}

describe("a streamed answer's tokens, counted as it is relayed", () => {
  it("takes a whole stream's usage chunk as its count, and the time its first bytes went out", async () => {
    const a = workerEvents("chatcmpl-a");
    const events = [a.role, a.text("Hel"), a.text("lo"), a.finish(), a.usage(5, 2), a.done];
    const before = Date.now();
    const { response, meter } = metered(scriptedStream(events).response);
    expect(await response.text()).toBe(events.join(""));
    expect(await meter.usage()).toEqual({ promptTokens: 5, completionTokens: 2 });
    expect(meter.firstChunkAtMs).toBeGreaterThanOrEqual(before);
  });

  it("charges a stream cut before its usage one completion token per chunk that carried text or a call, and the prompt tokens its head named", async () => {
    const a = workerEvents("chatcmpl-a");
    const call = `data: ${JSON.stringify({ id: "chatcmpl-a", choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: "{" } }] } }] })}\n\n`;
    const left = scriptedStream([a.role, a.text("Hel"), a.text("lo"), call], "hang");
    const { response, meter } = metered(left.response);
    const reader = response.body?.getReader();
    let read = "";
    while (!read.includes("tool_calls")) read += new TextDecoder().decode((await reader?.read())?.value);
    await reader?.cancel("client gone");
    expect(await meter.usage(41)).toEqual({ promptTokens: 41, completionTokens: 3 });
    // Whole, its usage is the count: the estimate never raises it.
    const whole = metered(scriptedStream([a.role, a.text("Hel"), a.text("lo"), call, a.usage(5, 3), a.done]).response);
    await whole.response.text();
    expect(await whole.meter.usage(41)).toEqual({ promptTokens: 41, completionTokens: 3 });
  });

  it("counts a legacy completion's chunks with text, not its empty finish", async () => {
    const a = workerEvents("cmpl-a", "completion");
    const { response, meter } = metered(scriptedStream([a.text("a"), a.text("b"), a.finish("length"), a.done]).response, {
      request: { model: "tiny", prompt: "Count:", stream: true },
      path: "/v1/completions",
    });
    await response.text();
    expect(await meter.usage()).toEqual({ promptTokens: 0, completionTokens: 2 });
  });

  it("counts a continued answer's usage as the client sees it: the whole answer's", async () => {
    const a = workerEvents("chatcmpl-a");
    const b = workerEvents("chatcmpl-b");
    const first = scriptedStream([a.role, a.text("Hel"), a.text("lo"), relayErrorEvent("worker_disconnected")]);
    const second = scriptedStream([b.role, b.text("!"), b.finish(), b.usage(12, 1), b.done]);
    const { response, meter } = metered(first.response, {}, [second.response]);
    expect((await readClientStream(response)).text).toBe("Hello!");
    // The continuation's prompt held the two tokens already sent: they move to the completion.
    expect(await meter.usage()).toEqual({ promptTokens: 10, completionTokens: 3 });
  });

  it("is ended at once by an answer that is no event stream, and by a stream cut at its deadline", async () => {
    const json = new Response("{}", { headers: { "content-type": "application/json" } });
    const refused = metered(json);
    expect(refused.response).toBe(json);
    expect(await refused.meter.usage()).toEqual({ promptTokens: 0, completionTokens: 0 });

    const a = workerEvents("chatcmpl-late");
    const late = metered(scriptedStream([a.role, a.text("Hel")], "hang").response, { deadlineMs: Date.now() + 200 });
    expect((await readClientStream(late.response)).text).toBe("Hel");
    expect(await late.meter.usage()).toEqual({ promptTokens: 0, completionTokens: 1 });
  });
});

describe("a stream without the usage chunk its client did not ask for", () => {
  const token = 'data: {"choices":[{"index":0,"delta":{"content":"é"}}]}\n\n';
  const usage = 'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}\n\n';
  const done = "data: [DONE]\n\n";

  it("passes every other event as it was, whatever the byte boundaries, and still counts the usage", async () => {
    const stream = `${token}${token}${usage}${done}`;
    const inCharacter = new TextEncoder().encode(token.slice(0, token.indexOf("é"))).byteLength + 1; // inside é's two bytes
    for (const cuts of [[], [inCharacter], [inCharacter, token.length + 3, 2 * token.length + 40], [2 * token.length + 1]]) {
      const { response, meter } = metered(scriptedStream(cutAt(stream, cuts)).response, { hideUsageChunk: true });
      expect(await response.text()).toBe(`${token}${token}${done}`);
      expect(await meter.usage()).toEqual({ promptTokens: 5, completionTokens: 3 });
    }
  });

  it("keeps a chunk that carries usage beside its choices, and a usage chunk when the client asked for it", async () => {
    const withChoices = 'data: {"choices":[{"index":0,"delta":{}}],"usage":null}\n\n';
    const hidden = metered(scriptedStream(cutAt(`${withChoices}${usage}${done}`, [])).response, { hideUsageChunk: true });
    expect(await hidden.response.text()).toBe(`${withChoices}${done}`);
    const asked = metered(scriptedStream(cutAt(`${withChoices}${usage}${done}`, [])).response);
    expect(await asked.response.text()).toBe(`${withChoices}${usage}${done}`);
  });
});
