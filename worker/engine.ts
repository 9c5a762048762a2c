// Loads one GGUF model with node-llama-cpp and runs requests on it: chat and plain completions
// on N parallel slots (one context sequence each), embeddings and reranking on contexts of their own. The HTTP
// server calls it per request; heartbeats and /health read its slot, queue and speed figures.
import { availableParallelism } from "node:os";
import {
  getLlama,
  LlamaChat,
  LlamaCompletion,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatModelFunctions,
  type ChatWrapper,
  type Llama,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { describeError, RbeeError } from "../shared/errors.js";
import { loadLlamaBuild } from "../shared/llama/load-llama-build.js";
import type { ChatCompletionRequest } from "../shared/openai/chat-request.js";
import type { ChatToolCallDelta } from "../shared/openai/chat-response.js";
import type { ChatToolCall } from "../shared/openai/chat-tools.js";
import { promptText, type CompletionRequest } from "../shared/openai/completion-request.js";
import type { WorkerDevice } from "../shared/protocol/worker-heartbeat.js";
import type { GpuChoice, GpuLayers } from "../shared/protocol/worker-launch.js";
import { toChatHistory } from "./chat-history.js";
import { aborted, finishReasonOf, stopSequenceOf, usage, type Completion, type LlamaStopReason } from "./completion-result.js";
import { Embedder, type Embeddings } from "./embedder.js";
import { Ranker, type RankInput, type Ranking } from "./ranker.js";
import { completionPromptTokens, infillSuffix, prependsBos } from "./raw-prompt.js";
import { tightenGrammars } from "./grammar-tightening.js";
import { forcedCallWrapper, type ForcedCallWrapper } from "./forced-call-wrapper.js";
import { DEFAULTS } from "./options.js";
import { promptSlotChoice } from "./prompt-slot.js";
import { ResponseFormats } from "./response-formats.js";
import { samplingOptions } from "./sampling.js";
import { SlotQueue, type SlotLease } from "./slot-queue.js";
import { tokenBiasOf } from "./token-bias.js";
import { completionBudget } from "./token-budget.js";
import { pollWindowUs, TokenPoller } from "./token-poller.js";
import { TextAnswerWatch } from "./text-answer-watch.js";
import { TokenRate } from "./token-rate.js";
import { ToolCallStream } from "./tool-call-stream.js";
import { toolFunctions } from "./tool-functions.js";
import { VramSampler } from "./vram-sampler.js";

export type { Completion, Usage } from "./completion-result.js";

export interface EngineOptions {
  modelPath: string;
  gpu: GpuChoice;
  gpuLayers: GpuLayers;
  threads: number;
  /** Tokens per slot; undefined picks min(model's trained context, DEFAULTS.maxDefaultContextSize). */
  contextSize: number | undefined;
  /** Slots: requests generated at once. */
  parallel: number;
  /** Requests that may wait for a slot before more are refused with 503. */
  maxQueue: number;
  /** Tokens per llama.cpp batch; undefined keeps node-llama-cpp's default. */
  batchSize: number | undefined;
  /** A llama.cpp build compiled by the hive (its folder); undefined uses node-llama-cpp's prebuilt binaries. */
  llamaBuild?: string | undefined;
  /** How long the event loop polls after a token for the next one, in µs, when tokens come that fast; 0 never polls (worker/token-poller.ts). */
  pollUs: number;
  /** Window of the tokens-per-second figure and period of VRAM sampling, in ms: the heartbeat interval. */
  metricsIntervalMs: number;
  /** Where llama.cpp's own warnings go: stderr, so stdout stays clean for supervisors. */
  log: (message: string) => void;
  /** Fraction of the model loaded, 0..1, as loading goes. */
  onLoadProgress?: (progress: number) => void;
  /** Aborting stops a load in progress at llama.cpp's next progress step (a worker told to stop). */
  loadSignal?: AbortSignal;
  /** Called whenever busy slots or queue length change. */
  onSlotsChange?: () => void;
}

export interface GenerateOptions {
  /** Aborting stops generation and frees the slot at once; the partial text is returned. */
  signal?: AbortSignal;
  /** Each piece of generated text as soon as it decodes, for streaming. */
  onTextChunk?: (text: string) => void;
  /** Each piece of a tool call as it is generated (chat with tools), for streaming. */
  onToolCallDelta?: (delta: ChatToolCallDelta) => void;
  /** The prompt's tokens, once counted: before the first token, so a stream's head can name them. */
  onPromptTokens?: (count: number) => void;
}

/** One generation slot: a context sequence, with the chat and completion front ends bound to it. */
interface Slot {
  /** Whose prompt the slot's tokens are (shared/openai/cache-scope.ts): its last request's scope. */
  scope: string | undefined;
  chat: LlamaChat;
  /** The chat's wrapper, switched to force a function call for the requests that require one. */
  forcedCall: ForcedCallWrapper;
  completion: LlamaCompletion;
}

/** What every generation gets, chat or completion: abort, grammar, token counting and streaming. */
interface CommonGenerationOptions {
  signal: AbortSignal | undefined;
  stopOnAbortSignal: true;
  grammar: LlamaGrammar | undefined;
  onToken: (tokens: Token[]) => void;
  onTextChunk: ((text: string) => void) | undefined;
}

interface Generated {
  text: string;
  toolCalls?: ChatToolCall[];
  stopReason: LlamaStopReason;
  /** The request's stop string that ended it, when one did. */
  stopSequence?: string;
  /** The tokens generated, counted apart where onToken does not hear of them all (a call's). */
  completionTokens?: number;
}

/** Seconds a client refused for a full queue (or a stopping worker) should wait. */
const RETRY_AFTER_SECONDS = 1;
/** OpenAI's default `max_tokens` for legacy completions. */
const DEFAULT_COMPLETION_MAX_TOKENS = 16;

export class Engine {
  /** Loads the model and prepares the slots; throws if the binary, file, flags or memory fail. */
  static async load(options: EngineOptions): Promise<Engine> {
    const logger = (level: string, message: string) => options.log(`llama.cpp ${level}: ${message.trimEnd()}`);
    const llama = await (options.llamaBuild === undefined
      ? getLlama({
          gpu: options.gpu === "cpu" ? false : options.gpu,
          // Without "never", a missing prebuilt binary silently starts a many-minute source build.
          build: "never",
          maxThreads: options.threads,
          logger,
        })
      : loadLlamaBuild(options.llamaBuild, { maxThreads: options.threads, logger })
    ).catch((error: unknown) => {
      // NoBinaryFoundError's message is only its name; say what was looked for.
      const reason = describeError(error);
      const what = options.llamaBuild === undefined ? "no prebuilt llama.cpp binary works" : `the llama.cpp build in ${options.llamaBuild} does not load`;
      throw new Error(`${what} with --gpu ${options.gpu} on this machine (${reason})`, {
        cause: error,
      });
    });
    try {
      tightenGrammars(llama);
      const model = await llama.loadModel({
        modelPath: options.modelPath,
        gpuLayers: options.gpuLayers,
        onLoadProgress: options.onLoadProgress,
        loadSignal: options.loadSignal,
      });
      const contextSize = slotContextSize(options.contextSize, model);
      // In node-llama-cpp 3.x `contextSize` is per sequence: the KV cache gets contextSize × sequences cells.
      const context = await model.createContext({
        contextSize,
        sequences: options.parallel,
        batchSize: options.batchSize,
      });
      // The model's own chat format (its template's), which also decides how tool calls are written.
      const chatWrapper = resolveChatWrapper(model);
      const slots = Array.from({ length: options.parallel }, (): Slot => {
        const contextSequence = context.getSequence();
        const forcedCall = forcedCallWrapper(chatWrapper);
        return {
          scope: undefined,
          chat: new LlamaChat({ contextSequence, chatWrapper: forcedCall.wrapper }),
          forcedCall,
          completion: new LlamaCompletion({ contextSequence }),
        };
      });
      return new Engine(llama, model, slots, chatWrapper, context.contextSize, options);
    } catch (error) {
      await llama.dispose();
      throw error;
    }
  }

  /** Where the model runs. */
  readonly device: WorkerDevice;
  /** How long the event loop polls after a token for the next, in µs; 0: never (worker/token-poller.ts). */
  readonly pollUs: number;
  private readonly slots: SlotQueue<Slot>;
  private readonly embedder: Embedder;
  private readonly ranker: Ranker;
  private readonly formats: ResponseFormats;
  private readonly tokenRate: TokenRate;
  private readonly poller: TokenPoller;
  private readonly vram: VramSampler;
  private disposing: Promise<void> | undefined;

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    slots: readonly Slot[],
    /** Renders chat prompts for counting; every slot's chat uses this template. */
    private readonly chatWrapper: ChatWrapper,
    /** Tokens each slot holds: prompt and completion together. */
    readonly contextSize: number,
    options: EngineOptions,
  ) {
    const onChange = options.onSlotsChange ?? (() => {});
    this.slots = new SlotQueue(slots, { maxQueue: options.maxQueue, retryAfterSeconds: RETRY_AFTER_SECONDS, onChange });
    const ownContext = { contextSize, threads: options.threads, maxQueue: options.maxQueue, retryAfterSeconds: RETRY_AFTER_SECONDS, onChange };
    this.embedder = new Embedder(model, ownContext);
    this.ranker = new Ranker(model, ownContext);
    this.formats = new ResponseFormats(llama);
    this.tokenRate = new TokenRate(options.metricsIntervalMs);
    if (slots.length === 0) throw new Error("an engine needs at least one slot");
    this.device = llama.gpu === false ? "cpu" : llama.gpu;
    this.pollUs = pollWindowUs(options.pollUs, { device: this.device, threads: options.threads, cpus: availableParallelism() });
    this.poller = new TokenPoller({ windowUs: this.pollUs });
    this.vram = new VramSampler(llama, options.metricsIntervalMs);
  }

  get slotsTotal(): number {
    return this.slots.total;
  }

  get slotsBusy(): number {
    return this.slots.busySlots;
  }

  /** Requests waiting for a slot or for the embedding or ranking context. */
  get queueLength(): number {
    return this.slots.waiting + this.embedder.waiting + this.ranker.waiting;
  }

  /** Tokens generated per second over the last metrics interval, all slots together. */
  get tokensPerSecond(): number {
    return this.tokenRate.perSecond();
  }

  /** GPU memory in use on the device, in bytes, as last sampled; null without a GPU. */
  get vramUsedBytes(): number | null {
    return this.vram.vramUsedBytes;
  }

  /** Length of the model's embedding vectors. */
  get embeddingSize(): number {
    return this.model.embeddingVectorSize;
  }

  /** Generates the assistant's reply to a chat; waits in FIFO order for a free slot first. */
  async chat(request: ChatCompletionRequest, options: GenerateOptions = {}): Promise<Completion> {
    const history = toChatHistory(request.messages);
    const tokenBias = tokenBiasOf(this.model, request.logit_bias);
    const tools = toolFunctions(request);
    // Counted and checked before queueing, so a request that can never work fails without waiting its turn.
    const prompt = this.chatPrompt(history, tools?.functions);
    const promptTokens = prompt.length;
    const requested =
      request.max_completion_tokens != null
        ? { tokens: request.max_completion_tokens, field: "max_completion_tokens" }
        : request.max_tokens != null
          ? { tokens: request.max_tokens, field: "max_tokens" }
          : undefined;
    const maxTokens = completionBudget({
      contextSize: this.contextSize,
      promptTokens,
      requested,
      defaultTokens: undefined,
      promptField: "messages",
      // The tools' definitions are part of the prompt the model reads, often a large part.
      ...(tools ? { promptPlace: "in the messages and tools" } : {}),
    });
    // The response format's grammar, if any: with tools it holds an answer in text, while a call
    // is generated under node-llama-cpp's own grammar of function names and parameters.
    const grammar = await this.formats.grammarFor(request.response_format);
    return this.generate(promptTokens, { tokens: prompt, scope: request.rbee_cache_scope }, grammar, options, async (slot, common) => {
      const sampling = { ...samplingOptions(request), ...common, maxTokens, tokenBias };
      if (!tools) {
        const response = await slot.chat.generateResponse(history, sampling);
        return { text: response.response, stopReason: response.metadata.stopReason, stopSequence: stopSequenceOf(response.metadata), completionTokens: tokensIfCut(response.metadata.stopReason, maxTokens) };
      }
      const calls = new ToolCallStream(options.onToolCallDelta);
      // node-llama-cpp tells onToken only of text: the tokens of a call are what the slot's
      // sequence counted as generated.
      const meter = slot.chat.sequence.tokenMeter;
      const before = meter.getState();
      const generatedTokens = () => meter.diff(before).usedOutputTokens;
      // A text answer must be in the response format: stopped at its first text (./text-answer-watch.ts).
      const textWatch = grammar && !tools.mustCall ? new TextAnswerWatch(common.signal) : undefined;
      try {
        const response = await slot.forcedCall.run(tools.mustCall, () =>
          slot.chat.generateResponse(history, {
            ...sampling,
            grammar: undefined,
            functions: tools.functions,
            documentFunctionParams: true,
            maxParallelFunctionCalls: tools.maxParallelCalls,
            onFunctionCallParamsChunk: calls.onParamsChunk,
            ...(textWatch ? { signal: textWatch.signal, onTextChunk: textWatch.onTextChunk } : {}),
          }),
        );
        if (textWatch?.answeredInText && !common.signal?.aborted) return await answerInFormat();
        const cutInName = response.metadata.stopReason === "maxTokens" ? tools.forcedName : undefined;
        const toolCalls = calls.finish(response.functionCalls ?? [], cutInName);
        return { text: response.response, toolCalls, stopReason: response.metadata.stopReason, stopSequence: stopSequenceOf(response.metadata), completionTokens: generatedTokens() };
      } catch (error) {
        // Stopped at its first text before node-llama-cpp counted a token: it throws the stop.
        if (textWatch?.answeredInText && !common.signal?.aborted) return await answerInFormat();
        // node-llama-cpp writes a call's arguments past maxTokens until the context is full, then
        // fails to shift it: the call was cut off by length, as a client should hear it.
        if (!isContextFull(error)) throw error;
        return { text: "", toolCalls: calls.finish([], tools.forcedName), stopReason: "maxTokens", completionTokens: generatedTokens() };
      }

      /** The answer again, under the format's grammar and the client's streaming, within what is left of max_tokens. */
      async function answerInFormat(): Promise<Generated> {
        const left = maxTokens === undefined ? undefined : Math.max(1, maxTokens - generatedTokens());
        const response = await slot.chat.generateResponse(history, { ...sampling, maxTokens: left });
        return { text: response.response, toolCalls: calls.finish([]), stopReason: response.metadata.stopReason, stopSequence: stopSequenceOf(response.metadata), completionTokens: generatedTokens() };
      }
    });
  }

  /**
   * Continues a plain-text prompt (legacy completions), or with a suffix fills in between the two;
   * waits in FIFO order for a free slot first.
   */
  async complete(request: CompletionRequest, options: GenerateOptions = {}): Promise<Completion> {
    const tokens = completionPromptTokens(this.model, promptText(request), request.rbee_answer_chars);
    // An empty suffix (the cursor at the end of a file) asks for what a plain completion gives.
    const infill = request.suffix ? infillSuffix(this.model, request.suffix) : undefined;
    const tokenBias = tokenBiasOf(this.model, request.logit_bias);
    const promptTokens = tokens.length + (infill ? infill.tokens.length + infill.markerTokens : 0) + (prependsBos(this.model) ? 1 : 0);
    const grammar = await this.formats.grammarFor(request.response_format);
    const maxTokens = completionBudget({
      contextSize: this.contextSize,
      promptTokens,
      requested: request.max_tokens == null ? undefined : { tokens: request.max_tokens, field: "max_tokens" },
      // OpenAI's 16 would cut nearly every JSON answer short; with a grammar the answer decides its length.
      defaultTokens: grammar ? undefined : DEFAULT_COMPLETION_MAX_TOKENS,
      promptField: "prompt",
      ...(infill ? { promptPlace: "in the prompt and suffix" } : {}),
    });
    // What a slot holds of it is compared for a plain prompt; an infill's is built around the suffix.
    const bos = prependsBos(this.model) ? this.model.tokens.bos : null;
    const prompt = infill ? undefined : bos === null ? tokens : [bos, ...tokens];
    return this.generate(promptTokens, { tokens: prompt, scope: request.rbee_cache_scope }, grammar, options, async (slot, common) => {
      const generation = {
        ...samplingOptions(request),
        ...common,
        maxTokens,
        tokenBias,
        // The budget above already fits prompt and completion into the slot; without these,
        // LlamaCompletion would silently drop the start of a prompt longer than 90% of the context.
        contextShiftSize: 1,
        disableContextShift: true,
      };
      const response = infill
        ? await slot.completion.generateInfillCompletionWithMeta(tokens, infill.tokens, generation)
        : await slot.completion.generateCompletionWithMeta(tokens, generation);
      return { text: response.response, stopReason: response.metadata.stopReason, stopSequence: stopSequenceOf(response.metadata), completionTokens: tokensIfCut(response.metadata.stopReason, maxTokens) };
    });
  }

  /** One embedding vector per input; `inputParam` names the field of input `index` in errors. */
  embed(inputs: readonly string[], inputParam: (index: number) => string, signal?: AbortSignal): Promise<Embeddings> {
    return this.embedder.embed(inputs, inputParam, signal);
  }

  /** Whether the model is a reranker (it has a ranking head), so `rank` works. */
  get canRank(): boolean {
    return this.ranker.canRank;
  }

  /** A relevance score per document for the query; only for a model that `canRank`. */
  rank(input: RankInput, signal?: AbortSignal): Promise<Ranking> {
    return this.ranker.rank(input, signal);
  }

  /** Frees the model, contexts and native backend; later and waiting requests get a 503. Safe to call twice. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      this.vram.stop();
      const stopping = new RbeeError(503, "worker_stopping", "The worker is shutting down", { retryAfterSeconds: RETRY_AFTER_SECONDS });
      this.slots.close(stopping);
      this.embedder.close(stopping);
      this.ranker.close(stopping);
      await this.llama.dispose();
    })();
    return this.disposing;
  }

  /**
   * Runs one generation on a slot: queueing, abort, token counting and releasing the slot. `prompt`:
   * its tokens, where known, for the slot that holds most of them already (./prompt-slot.ts), of
   * those whose last request was of the same scope.
   */
  private async generate(
    promptTokens: number,
    prompt: { tokens: readonly Token[] | undefined; scope: string | undefined },
    grammar: LlamaGrammar | undefined,
    { signal, onTextChunk, onPromptTokens }: GenerateOptions,
    run: (slot: Slot, common: CommonGenerationOptions) => Promise<Generated>,
  ): Promise<Completion> {
    onPromptTokens?.(promptTokens);
    let lease: SlotLease<Slot>;
    try {
      const heldOf = (slot: Slot): readonly Token[] => (slot.scope === prompt.scope ? slot.chat.sequence.contextTokens : []);
      lease = await this.slots.acquire(signal, prompt.tokens && promptSlotChoice(prompt.tokens, heldOf));
    } catch (error) {
      if (signal?.aborted) return aborted(promptTokens);
      throw error;
    }
    const meter = lease.slot.chat.sequence.tokenMeter;
    const before = meter.getState();
    // Another scope's tokens are reused all the same where they match (they are the same tokens),
    // but not told of: that would tell one API key what another's prompts start with.
    const ownTokens = lease.slot.scope === prompt.scope;
    try {
      let completionTokens = 0;
      this.poller.onGenerationStart();
      const onToken = (tokens: Token[]): void => {
        completionTokens += tokens.length;
        this.tokenRate.add(tokens.length);
        this.poller.onToken();
      };
      const generated = await run(lease.slot, { signal, stopOnAbortSignal: true, grammar, onToken, onTextChunk });
      const toolCalls = generated.toolCalls ?? [];
      const finishReason = finishReasonOf(generated.stopReason, grammar !== undefined, generated.text);
      const generatedTokens = Math.max(completionTokens, generated.completionTokens ?? 0);
      this.tokenRate.add(generatedTokens - completionTokens); // a call's tokens, known only now
      return {
        text: generated.text,
        toolCalls,
        // A call cut by max_tokens is returned as far as it got, with "length" as OpenAI says it.
        finishReason: toolCalls.length > 0 && finishReason === "stop" ? "tool_calls" : finishReason,
        ...(generated.stopSequence === undefined ? {} : { stopSequence: generated.stopSequence }),
        usage: usage(promptTokens, generatedTokens, ownTokens ? reusedPromptTokens(promptTokens, meter.diff(before).usedInputTokens) : 0),
      };
    } catch (error) {
      // Aborted before the first token: node-llama-cpp throws the signal's reason instead of returning.
      if (signal?.aborted) return aborted(promptTokens);
      throw error;
    } finally {
      // The slot's tokens are this scope's once the request evaluated any: one aborted before that
      // leaves them the last scope's, and no later request of its scope is told of them.
      const used = meter.diff(before);
      if (used.usedInputTokens + used.usedOutputTokens > 0) lease.slot.scope = prompt.scope;
      lease.release();
    }
  }

  /**
   * The tokens of `request`'s prompt, templated as chat() would generate from it, without
   * generating: on the calling thread, so it waits for no slot. A prompt longer than the slots'
   * context is counted too (a client counts to learn whether it must shorten its prompt).
   */
  countChatTokens(request: ChatCompletionRequest): number {
    return this.chatPrompt(toChatHistory(request.messages), toolFunctions(request)?.functions).length;
  }

  /** The whole templated prompt's tokens, as the chat wrapper renders it for generation. */
  private chatPrompt(history: ChatHistoryItem[], functions: ChatModelFunctions | undefined): Token[] {
    // A forced call's prompt has the call prefix too: a few tokens this leaves out.
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory: history, availableFunctions: functions, documentFunctionParams: true });
    return contextText.tokenize(this.model.tokenizer);
  }
}

/** The slot context size: as asked, or the default; never more than the model was trained on. */
function slotContextSize(requested: number | undefined, model: LlamaModel): number {
  if (requested === undefined) return Math.min(model.trainContextSize, DEFAULTS.maxDefaultContextSize);
  if (requested > model.trainContextSize) {
    throw new Error(`--context-size ${requested} is more than the model was trained on (${model.trainContextSize} tokens)`);
  }
  return requested;
}

/** node-llama-cpp's failure when a generation fills its context and the history cannot be shortened. */
function isContextFull(error: unknown): boolean {
  return error instanceof Error && error.message.includes("did not return a history that fits the context size");
}

/**
 * How many of a prompt's tokens the slot had evaluated already (the start it shares with the slot's
 * last prompt and answer), which the generation did not evaluate again: OpenAI's `cached_tokens`.
 * node-llama-cpp meters a decoded token as input unless its logits were asked for, and they are
 * for the prompt's last token, so `inputTokens` is the prompt's evaluated tokens less one. A
 * generation that evaluated more (a forced call's text answer again) reads as reusing less.
 */
function reusedPromptTokens(promptTokens: number, inputTokens: number): number {
  return Math.min(promptTokens, Math.max(0, promptTokens - inputTokens - 1));
}

/**
 * The tokens of a generation that `maxTokens` cut off: that many. onToken hears only of tokens
 * that made text, and the bytes of a character left incomplete at the cut (an emoji's first byte
 * tokens) never do; counted from onToken alone, such an answer was billed fewer tokens than it
 * took (six byte tokens, none).
 */
function tokensIfCut(stopReason: string | undefined, maxTokens: number | undefined): number | undefined {
  return stopReason === "maxTokens" ? maxTokens : undefined;
}
