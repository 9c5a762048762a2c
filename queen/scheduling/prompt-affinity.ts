// Which worker holds a chat prompt's start already. A worker keeps its last requests' tokens
// evaluated, one conversation a slot (worker/prompt-slot.ts), and a conversation's next turn is its
// last prompt, the answer and what the client says next: on the worker that served the turn before,
// only the new part is evaluated, where another worker evaluates the whole conversation again (long
// ones take seconds before their first token). So the queen fingerprints each chat prompt, remembers
// which worker it was placed on, and places the next turn there while that worker has a slot free;
// otherwise the request goes where it would anyway. A fingerprint that collides only costs that
// preference.
import { BoundedMap } from "../../shared/bounded-map.js";
import { isRecord } from "../../shared/is-record.js";

/** A chat prompt's fingerprints: the whole prompt's, and that of the earlier prompt it continues, if any. */
export interface PromptKeys {
  prompt: string;
  /** The messages before the last assistant message: the prompt of the turn that answer ended. */
  continues?: string;
}

/** Prompts whose worker is remembered, at most (the oldest forgotten first). */
const REMEMBERED_PROMPTS = 10_000;

/**
 * The fingerprints of `request`'s messages, as sent with the API key `keyId` (a worker reuses one
 * key's prompts for that key only: shared/openai/cache-scope.ts); undefined for a request without
 * messages (completions, embeddings).
 */
export function promptKeysOf(request: unknown, keyId: string): PromptKeys | undefined {
  if (!isRecord(request) || !Array.isArray(request.messages) || request.messages.length === 0) return undefined;
  const messages: unknown[] = request.messages;
  const lastAnswer = messages.findLastIndex((message) => isRecord(message) && message.role === "assistant");
  // One pass: the earlier prompt's fingerprint is this one's as it stood before that answer.
  const print = new Fingerprint();
  print.add(keyId);
  let continues: string | undefined;
  for (const [index, message] of messages.entries()) {
    if (index === lastAnswer && index > 0) continues = print.digest();
    print.add(JSON.stringify(message));
  }
  return { prompt: print.digest(), ...(continues === undefined ? {} : { continues }) };
}

/** The `rbee_cache_scope` of the requests of the API key `keyId` (shared/openai/cache-scope.ts): a fingerprint, not the id. */
export function cacheScopeOf(keyId: string): string {
  const print = new Fingerprint();
  print.add(keyId);
  return print.digest();
}

/** Which worker each recent prompt was placed on. */
export class PromptAffinity {
  private readonly workerOf = new BoundedMap<string, string>(REMEMBERED_PROMPTS);

  /** The worker the prompt `keys` continues was placed on, if remembered. */
  workerFor(keys: PromptKeys | undefined): string | undefined {
    return keys?.continues === undefined ? undefined : this.workerOf.get(keys.continues);
  }

  placed(keys: PromptKeys | undefined, workerId: string): void {
    if (keys !== undefined) this.workerOf.set(keys.prompt, workerId);
  }
}

/** 64 bits of two 32-bit FNV-1a-style hashes over a list of texts, as hex: cheap, and a collision only costs a preference. */
class Fingerprint {
  private low = 0x811c9dc5;
  private high = 0x01000193;

  add(text: string): void {
    let { low, high } = this;
    for (let index = 0; index < text.length; index += 1) {
      const code = text.charCodeAt(index);
      low = Math.imul(low ^ code, 0x01000193);
      high = Math.imul(high ^ code, 0x5bd1e995);
    }
    // A separator no JSON text holds unescaped, so ["ab","c"] and ["a","bc"] differ.
    this.low = Math.imul(low ^ 0x0a, 0x01000193);
    this.high = Math.imul(high ^ 0x0a, 0x5bd1e995);
  }

  digest(): string {
    return (this.low >>> 0).toString(16).padStart(8, "0") + (this.high >>> 0).toString(16).padStart(8, "0");
  }
}
