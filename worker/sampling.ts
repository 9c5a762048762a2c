// Maps OpenAI's sampling fields (shared by chat and legacy completions) onto node-llama-cpp's
// generation options, with OpenAI's defaults where the two libraries differ.
import { randomInt } from "node:crypto";
import type { LLamaContextualRepeatPenalty } from "node-llama-cpp";
import type { ChatCompletionRequest } from "../shared/openai/chat-request.js";

/** The sampling fields of either request kind. */
export type SamplingRequest = Pick<
  ChatCompletionRequest,
  "temperature" | "top_p" | "top_k" | "min_p" | "seed" | "stop" | "frequency_penalty" | "presence_penalty" | "repeat_penalty"
>;

export interface SamplingOptions {
  temperature: number;
  topP: number | undefined;
  topK: number | undefined;
  minP: number | undefined;
  seed: number;
  repeatPenalty: false | LLamaContextualRepeatPenalty;
  customStopTriggers: string[] | undefined;
}

// OpenAI samples at temperature 1 unless told otherwise; node-llama-cpp's own default is 0 (greedy).
const DEFAULT_TEMPERATURE = 1;
// llama.cpp seeds are 32-bit; OpenAI's are any integer, each a fixed seed. The largest 32-bit one
// (LLAMA_DEFAULT_SEED, 0xFFFFFFFF) means "draw one at random" to llama.cpp: what maps to it (-1,
// 2^32 - 1) takes the one below instead; every other seed keeps the value it always had.
const SEED_RANGE = 2 ** 32;
const RANDOM_SEED = SEED_RANGE - 1;

export function samplingOptions(request: SamplingRequest): SamplingOptions {
  return {
    temperature: request.temperature ?? DEFAULT_TEMPERATURE,
    topP: request.top_p ?? undefined,
    topK: request.top_k ?? undefined,
    minP: request.min_p ?? undefined,
    // Without a seed, a random one: left unset, node-llama-cpp seeds with the current second, and
    // requests of one second (a client fanning out for several samples, as n > 1 is refused) all
    // drew the same text.
    seed: request.seed == null ? randomInt(RANDOM_SEED) : fixedSeed(request.seed),
    repeatPenalty: repeatPenalty(request),
    customStopTriggers: stopStrings(request.stop),
  };
}

function fixedSeed(seed: number): number {
  const wrapped = ((seed % SEED_RANGE) + SEED_RANGE) % SEED_RANGE;
  return wrapped === RANDOM_SEED ? RANDOM_SEED - 1 : wrapped;
}

/**
 * OpenAI's frequency and presence penalties default to 0 and llama.cpp's repeat penalty to 1, all
 * meaning "none"; node-llama-cpp would otherwise apply its own 1.1 repeat penalty to every request.
 */
function repeatPenalty(request: SamplingRequest): false | LLamaContextualRepeatPenalty {
  const penalty = request.repeat_penalty ?? 1;
  const frequencyPenalty = request.frequency_penalty ?? 0;
  const presencePenalty = request.presence_penalty ?? 0;
  if (penalty === 1 && frequencyPenalty === 0 && presencePenalty === 0) return false;
  return { penalty, frequencyPenalty, presencePenalty };
}

function stopStrings(stop: SamplingRequest["stop"]): string[] | undefined {
  if (stop == null) return undefined;
  // An empty stop string would match before the first character and end every response empty.
  const strings = (typeof stop === "string" ? [stop] : stop).filter((text) => text !== "");
  return strings.length > 0 ? strings : undefined;
}
