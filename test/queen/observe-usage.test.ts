import { describe, expect, it } from "vitest";
import { observeJsonUsage } from "../../queen/usage/observe-usage.js";

const USAGE = '{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}';

describe("observing a JSON answer's usage", () => {
  it("finds the usage of a JSON body split across chunks, passing the body as it was", async () => {
    const encoder = new TextEncoder();
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of [USAGE.slice(0, 10), USAGE.slice(10)]) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    });
    const observed = observeJsonUsage(source);
    expect(await new Response(observed.body).text()).toBe(USAGE);
    expect(await observed.usage).toEqual({ promptTokens: 5, completionTokens: 3 });
    expect(observed.firstChunkAtMs()).toBeTypeOf("number");
  });
});
