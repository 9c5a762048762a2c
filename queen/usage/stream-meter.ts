// Counts the tokens of a streamed answer from the chunks the client gets, as the queen's one
// stage over a relayed stream (streams/spliced-stream.ts) hands them on: that stage parses each
// event already, so the usage meter (meter-usage.ts) reads no stream of its own. It counts the
// chat or completion chunks of every stream, a dialect's too (the Responses and Anthropic routes
// translate a chat stream, whose usage chunk they ask for).
//
// A stream its client leaves before the end never gets to its usage chunk, yet its tokens were
// generated and sent: it counts one completion token for each chunk that carried a piece of text
// or of a call, which is at most the true count (a piece is one token or more), and the prompt
// tokens the stream's head named (PROMPT_TOKENS_HEADER, from the worker). Without that, a client
// could stop every stream just short of its end and never be charged.
import type { ChunkMeter } from "../streams/spliced-stream.js";
import { choiceText, type ChunkChoice, type StreamChunk } from "../streams/stream-event.js";
import { NO_TOKENS, type TokenUsage } from "./token-usage.js";

/**
 * One per request, made by the usage meter before the route runs. Whatever answers with an event
 * stream ends it once that stream is over (`end`): the spliced stream when its client's stream
 * ends or is cut, the route when its answer carries no spliced stream (a refusal in an early
 * head's stream, streams/early-stream-head.ts).
 */
export class StreamMeter implements ChunkMeter {
  private seen: TokenUsage | undefined;
  /** Chunks that carried tokens: the completion tokens of a stream cut before its usage. */
  private tokenChunks = 0;
  private firstSentAtMs: number | undefined;
  private cutWith: string | undefined;
  private over = false;
  private settle: () => void = () => {};
  private readonly ended = new Promise<void>((resolve) => {
    this.settle = resolve;
  });

  /** A chunk on its way to the client (a continuation's as the client sees it). */
  chunk(chunk: StreamChunk): void {
    if (chunk.usage) this.seen = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
    if (chunk.choices.some(carriesTokens)) this.tokenChunks += 1;
  }

  /** Bytes of the answer went to the client: the first time is its time to first token. */
  sent(): void {
    this.firstSentAtMs ??= Date.now();
  }

  /** The client's stream is over, cut short for `cut`'s reason if given; later calls change nothing. */
  end(cut?: string): void {
    if (this.over) return;
    this.over = true;
    this.cutWith = cut;
    this.settle();
  }

  /** Why the stream stopped short of its answer's end (spliced-stream.ts's CLIENT_GONE, an error's code); undefined if it did not. */
  get cut(): string | undefined {
    return this.cutWith;
  }

  /** When the first bytes of the answer went out (ms since the epoch); undefined before. */
  get firstChunkAtMs(): number | undefined {
    return this.firstSentAtMs;
  }

  /** Once the stream is over: its tokens. `headPromptTokens`: the prompt's tokens as the stream's head named them. */
  async usage(headPromptTokens = 0): Promise<TokenUsage> {
    await this.ended;
    const seen = this.seen ?? NO_TOKENS;
    return { promptTokens: Math.max(seen.promptTokens, headPromptTokens), completionTokens: Math.max(seen.completionTokens, this.tokenChunks) };
  }
}

/** A piece of text, or of a tool call. An empty text (chat's opening chunk, a finish) is no token. */
function carriesTokens(choice: ChunkChoice): boolean {
  if (choiceText(choice) !== "") return true;
  const calls = (choice.delta as { tool_calls?: unknown } | null | undefined)?.tool_calls;
  return Array.isArray(calls) && calls.length > 0;
}
