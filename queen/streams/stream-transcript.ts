// What the queen has streamed to a client so far in one answer: the identity the client saw
// (id, created, model), the text of each choice, how many tokens that was, whether the role and
// a finish reason went by. spliced-stream.ts keeps one per client stream, across every worker
// that served a part of it, so a continuation starts from exactly what the client has.
import { type StreamChunk, choiceText } from "./stream-event.js";

/** What every chunk of one answer shows the client. */
export interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
}

export class StreamTranscript {
  private identityShown: CompletionIdentity | undefined;
  private readonly texts = new Map<number, string>();
  private textChunks = 0;
  private roleShown = false;
  private finishShown: string | undefined;

  /** The identity of the first chunk the client saw; every later chunk must carry it. */
  get identity(): CompletionIdentity | undefined {
    return this.identityShown;
  }

  /** The text of choice 0 so far. */
  get text(): string {
    return this.texts.get(0) ?? "";
  }

  /**
   * Tokens streamed so far, estimated as the chunks that carried text: a worker sends one chunk
   * per piece of text node-llama-cpp hands it, which is one token, or several when a character
   * spans tokens or a possible stop string held text back. So this is at most the true count,
   * never more: a continuation's budget may overshoot the original `max_tokens` by those few,
   * but never cuts an answer short.
   */
  get tokensEstimate(): number {
    return this.textChunks;
  }

  /** Whether a chunk with the `role` went by (chat's first chunk); a continuation must not repeat it. */
  get roleSent(): boolean {
    return this.roleShown;
  }

  /** The finish reason the client saw, if the answer reached its end. */
  get finishReason(): string | undefined {
    return this.finishShown;
  }

  /** Only one choice can be continued: a stream with several choices (n > 1) is not. */
  get continuable(): boolean {
    return [...this.texts.keys()].every((index) => index === 0);
  }

  /** Records a chunk as the client saw it (after any rewriting). */
  record(chunk: StreamChunk): void {
    if (!this.identityShown && chunk.id !== undefined) {
      this.identityShown = { id: chunk.id, created: chunk.created ?? Math.floor(Date.now() / 1000), model: chunk.model ?? "" };
    }
    for (const choice of chunk.choices) {
      if (choice.delta?.role) this.roleShown = true;
      const text = choiceText(choice);
      if (text !== "" || !this.texts.has(choice.index)) this.texts.set(choice.index, (this.texts.get(choice.index) ?? "") + text);
      if (text !== "" && choice.index === 0) this.textChunks += 1;
      if (choice.finish_reason) this.finishShown = choice.finish_reason;
    }
  }
}
