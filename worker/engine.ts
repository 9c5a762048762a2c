// Loads one GGUF model with node-llama-cpp and generates chat completions from it, one request
// per slot; the HTTP server calls `complete`, heartbeats and /health read the slot counts.
import { getLlama, LlamaChat, type ChatHistoryItem, type Llama, type LlamaChatResponse } from "node-llama-cpp";
import { describeError, RbeeError } from "../shared/errors.js";
import type { ChatCompletionRequest } from "../shared/openai/chat-request.js";
import { toChatHistory } from "./chat-history.js";
import { DEFAULTS, type GpuChoice } from "./options.js";
import { SlotQueue, type ReleaseSlot } from "./slot-queue.js";

export interface EngineOptions {
  modelPath: string;
  gpu: GpuChoice;
  threads: number;
  /** Context size in tokens; undefined picks min(model's trained context, DEFAULTS.maxDefaultContextSize). */
  contextSize: number | undefined;
  /** Where llama.cpp's own warnings go: stderr, so stdout stays clean for supervisors. */
  log: (message: string) => void;
  /** Called whenever `slotsBusy` changes. */
  onSlotsChange?: () => void;
}

/** "abort" never reaches a client: it means the client left and nobody is listening. */
export type FinishReason = "stop" | "length" | "abort";

/** OpenAI's usage object, in tokens. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface Completion {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
}

export interface CompleteOptions {
  /** Aborting stops generation and frees the slot at once; the partial text is returned. */
  signal?: AbortSignal;
  /** Each piece of generated text as soon as it decodes, for streaming. */
  onTextChunk?: (text: string) => void;
}

// OpenAI samples at temperature 1 unless told otherwise; node-llama-cpp's own default is 0 (greedy).
const DEFAULT_TEMPERATURE = 1;

export class Engine {
  /** Loads the model and prepares the one sequence; throws if the binary, file or memory fail. */
  static async load(options: EngineOptions): Promise<Engine> {
    const llama = await getLlama({
      gpu: options.gpu === "cpu" ? false : options.gpu,
      // Without "never", a missing prebuilt binary silently starts a many-minute source build.
      build: "never",
      maxThreads: options.threads,
      logger: (level, message) => options.log(`llama.cpp ${level}: ${message.trimEnd()}`),
    }).catch((error: unknown) => {
      // NoBinaryFoundError's message is only its name; say what was looked for.
      const reason = describeError(error);
      throw new Error(`no prebuilt llama.cpp binary works with --gpu ${options.gpu} on this machine (${reason})`, {
        cause: error,
      });
    });
    try {
      const model = await llama.loadModel({ modelPath: options.modelPath });
      const contextSize = options.contextSize ?? Math.min(model.trainContextSize, DEFAULTS.maxDefaultContextSize);
      const context = await model.createContext({ contextSize, sequences: 1 });
      const chat = new LlamaChat({ contextSequence: context.getSequence() });
      return new Engine(llama, chat, context.contextSize, options.onSlotsChange);
    } catch (error) {
      await llama.dispose();
      throw error;
    }
  }

  private readonly slots: SlotQueue;
  private disposing: Promise<void> | undefined;

  private constructor(
    private readonly llama: Llama,
    private readonly chat: LlamaChat,
    /** Tokens the sequence holds: prompt and completion together. */
    readonly contextSize: number,
    onSlotsChange: () => void = () => {},
  ) {
    // One sequence, so one slot; more sequences and slots come with parallel decoding.
    this.slots = new SlotQueue(1, onSlotsChange);
  }

  get slotsTotal(): number {
    return this.slots.total;
  }

  get slotsBusy(): number {
    return this.slots.busySlots;
  }

  /** Generates one chat completion; waits in FIFO order for a free slot first. */
  async complete(request: ChatCompletionRequest, options: CompleteOptions = {}): Promise<Completion> {
    const { signal, onTextChunk } = options;
    const history = toChatHistory(request.messages);
    // Counted before queueing, so a request that can never fit fails without waiting its turn.
    const promptTokens = this.countPromptTokens(history);
    const maxTokens = this.completionBudget(promptTokens, request);

    let release: ReleaseSlot;
    try {
      release = await this.slots.acquire(signal);
    } catch (error) {
      if (signal?.aborted) return aborted(promptTokens);
      throw error;
    }
    try {
      let completionTokens = 0;
      const response = await this.chat.generateResponse(history, {
        signal,
        stopOnAbortSignal: true,
        maxTokens,
        temperature: request.temperature ?? DEFAULT_TEMPERATURE,
        topP: request.top_p ?? undefined,
        seed: request.seed ?? undefined,
        customStopTriggers: stopStrings(request.stop),
        // OpenAI's frequency and presence penalties default to 0; node-llama-cpp would apply one.
        repeatPenalty: false,
        onToken: (tokens) => {
          completionTokens += tokens.length;
        },
        onTextChunk,
      });
      return {
        text: response.response,
        finishReason: finishReasonOf(response.metadata.stopReason),
        usage: usage(promptTokens, completionTokens),
      };
    } catch (error) {
      // Aborted before the first token: node-llama-cpp throws the signal's reason instead of returning.
      if (signal?.aborted) return aborted(promptTokens);
      throw error;
    } finally {
      release();
    }
  }

  /** Frees the model, context and native backend; later and waiting requests get a 503. Safe to call twice. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      this.slots.close(new RbeeError(503, "worker_stopping", "The worker is shutting down", { retryAfterSeconds: 1 }));
      await this.llama.dispose();
    })();
    return this.disposing;
  }

  /** Tokens of the whole templated prompt, as the chat wrapper renders it for generation. */
  private countPromptTokens(history: ChatHistoryItem[]): number {
    const { contextText } = this.chat.chatWrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(this.chat.model.tokenizer).length;
  }

  /**
   * How many tokens may be generated. Like OpenAI, an explicit max_tokens that does not fit next
   * to the prompt is an error rather than silently shortened; without one, generation may fill the
   * context. One token stays free because LlamaChat would otherwise "context shift", quietly
   * erasing the start of the conversation instead of failing.
   */
  private completionBudget(promptTokens: number, request: ChatCompletionRequest): number {
    const room = this.contextSize - 1 - promptTokens;
    const requestedField = request.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
    const requested = request.max_completion_tokens ?? request.max_tokens ?? undefined;
    if (room >= (requested ?? 1)) return requested ?? room;
    const asked = requested ?? 1;
    throw new RbeeError(
      400,
      "context_length_exceeded",
      `This model's context fits ${this.contextSize - 1} tokens, but the request asks for ${promptTokens + asked} ` +
        `(${promptTokens} in the messages + ${asked} to generate)`,
      { param: room < 1 ? "messages" : requestedField },
    );
  }
}

function stopStrings(stop: ChatCompletionRequest["stop"]): string[] | undefined {
  if (stop == null) return undefined;
  // An empty stop string would match before the first character and end every response empty.
  return (typeof stop === "string" ? [stop] : stop).filter((text) => text !== "");
}

function finishReasonOf(stopReason: LlamaChatResponse["metadata"]["stopReason"]): FinishReason {
  switch (stopReason) {
    case "eogToken":
    case "stopGenerationTrigger":
    case "customStopTrigger":
    case "functionCalls":
      return "stop";
    case "maxTokens":
      return "length";
    case "abort":
      return "abort";
  }
}

function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

function aborted(promptTokens: number): Completion {
  return { text: "", finishReason: "abort", usage: usage(promptTokens, 0) };
}
