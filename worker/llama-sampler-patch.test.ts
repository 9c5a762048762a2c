// node-llama-cpp hands its sampler's settings to the native sampler before every token; rbee's
// patch (patches/node-llama-cpp+3.21.1.patch) skips a config equal to the one applied last.
// These tests count the native calls: one an answer when nothing changes, and still one a token
// when a penalty is set, whose history of tokens grows with every token it must see.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaChat, type Llama, type LlamaContext } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyLlamaGguf } from "../shared/gguf/tiny-llama.js";

/** The native sampler class on node-llama-cpp's bindings, which its LlamaSampler constructs for each evaluation. */
interface SamplerBindings {
  AddonSampler: new (...args: unknown[]) => { applyConfig(config: unknown): unknown };
}

const TOKENS = 24;

describe("node-llama-cpp's sampler patch", () => {
  let dir = "";
  let llama: Llama | undefined;
  let context: LlamaContext | undefined;
  let nativeApplies = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-sampler-"));
    const modelPath = join(dir, "rbee-tiny.gguf");
    await writeTinyLlamaGguf(modelPath);
    // build: "never" so a missing prebuilt binary fails fast; one thread on a two-core machine.
    llama = await getLlama({ gpu: false, build: "never", maxThreads: 1 });
    // Each evaluation constructs its sampler from the bindings, so a subclass there sees every native call.
    const bindings = (llama as unknown as { _bindings: SamplerBindings })._bindings;
    bindings.AddonSampler = class extends bindings.AddonSampler {
      override applyConfig(config: unknown): unknown {
        nativeApplies += 1;
        return super.applyConfig(config);
      }
    };
    const model = await llama.loadModel({ modelPath });
    context = await model.createContext({ contextSize: 512 });
  });

  afterAll(async () => {
    await llama?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function countApplies(repeatPenalty: false | { frequencyPenalty: number }): Promise<{ applies: number; tokens: number }> {
    if (!context) throw new Error("the model did not load");
    const sequence = context.getSequence();
    try {
      const chat = new LlamaChat({ contextSequence: sequence });
      let tokens = 0;
      nativeApplies = 0;
      await chat.generateResponse([{ type: "user", text: "Tell me a story about a bee." }], {
        maxTokens: TOKENS,
        temperature: 0,
        // Fixed: without one, node-llama-cpp resolves the seed to the current second before every
        // token, and an answer that crosses a second's boundary changes its config once (seen
        // under load, where 24 tokens take long enough): the config would not be unchanging.
        seed: 1,
        repeatPenalty,
        onToken: (generated) => {
          tokens += generated.length;
        },
      });
      return { applies: nativeApplies, tokens };
    } finally {
      sequence.dispose();
    }
  }

  it("applies an unchanging config once an answer, not once a token", async () => {
    const { applies, tokens } = await countApplies(false);
    expect(tokens).toBe(TOKENS);
    expect(applies).toBe(1);
  });

  it("still applies a penalty's growing history before every token", async () => {
    const { applies, tokens } = await countApplies({ frequencyPenalty: 0.5 });
    expect(tokens).toBe(TOKENS);
    expect(applies).toBe(TOKENS);
  });
});
