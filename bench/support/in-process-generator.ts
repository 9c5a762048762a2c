// The benchmark's baseline: node-llama-cpp called in this process on the same model, set up and
// called the way worker/engine.ts does it, minus the HTTP server around it.
import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { getLlama, LlamaChat, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { loadLlamaBuild } from "../../shared/llama/load-llama-build.js";
import type { ChatMessage } from "../../shared/openai/chat-request.js";
import { toChatHistory } from "../../worker/chat-history.js";
import { DEFAULTS as WORKER_DEFAULTS } from "../../worker/options.js";
import { pollWindowUs, TokenPoller } from "../../worker/token-poller.js";
import type { RunResult } from "./run-result.js";

export class InProcessGenerator {
  /**
   * Loads the model on the CPU with `threads` threads, with the llama.cpp build in `llamaBuild` as
   * the worker loads it for `--llama-build`, or else node-llama-cpp's prebuilt binary; throws at
   * once if that does not load.
   */
  static async load(options: { modelPath: string; threads: number; llamaBuild?: string | undefined }): Promise<InProcessGenerator> {
    const llama = await (options.llamaBuild === undefined
      ? // build: "never", as in the worker: a missing binary would otherwise start a many-minute source build.
        getLlama({ gpu: false, build: "never", maxThreads: options.threads, logLevel: LlamaLogLevel.warn })
      : loadLlamaBuild(options.llamaBuild, { maxThreads: options.threads }));
    try {
      const model = await llama.loadModel({ modelPath: options.modelPath });
      // The worker's context when --context-size is not given, so the KV cache has the same size.
      const contextSize = Math.min(model.trainContextSize, WORKER_DEFAULTS.maxDefaultContextSize);
      const context = await model.createContext({ contextSize, sequences: 1 });
      // Polling between tokens as the worker does by default, so the two differ only by the HTTP API.
      const windowUs = pollWindowUs(WORKER_DEFAULTS.pollUs, { device: "cpu", threads: options.threads, cpus: availableParallelism() });
      return new InProcessGenerator(llama, new LlamaChat({ contextSequence: context.getSequence() }), new TokenPoller({ windowUs }));
    } catch (error) {
      await llama.dispose();
      throw error;
    }
  }

  private disposing: Promise<void> | undefined;

  private constructor(
    private readonly llama: Llama,
    private readonly chat: LlamaChat,
    private readonly poller: TokenPoller,
  ) {}

  /**
   * One greedy completion with the options the worker passes for `temperature: 0` and `max_tokens`.
   * The worker's extras (prompt token count, abort signal, text callback) are left out on purpose:
   * they are part of the overhead being measured.
   */
  async generate(messages: readonly ChatMessage[], maxTokens: number): Promise<RunResult> {
    const started = performance.now();
    let tokens = 0;
    this.poller.onGenerationStart();
    await this.chat.generateResponse(toChatHistory(messages), {
      maxTokens,
      temperature: 0,
      repeatPenalty: false,
      // The worker's usage.completion_tokens is this same count, so both sides count alike.
      onToken: (generated) => {
        tokens += generated.length;
        this.poller.onToken();
      },
    });
    return { tokens, seconds: (performance.now() - started) / 1000 };
  }

  /** Frees the model, context and native backend. Safe to call twice. */
  dispose(): Promise<void> {
    this.disposing ??= this.llama.dispose();
    return this.disposing;
  }
}
