// Finds the usage of a JSON response body (observe-usage.ts): the body is kept and parsed at its
// end, up to a bound past which only its tail is searched.
import { NO_TOKENS, type TokenUsage, usageOfJson } from "./token-usage.js";

/** Most of a JSON body kept to find its usage; past it only the tail is searched (bytes, ~chars). */
const MAX_JSON_KEPT_CHARS = 4 * 1024 * 1024;
const JSON_TAIL_CHARS = 64 * 1024;

export class JsonUsageWatcher {
  private readonly decoder = new TextDecoder();
  private text = "";
  private truncated = false;

  push(chunk: Uint8Array): void {
    this.text += this.decoder.decode(chunk, { stream: true });
    if (this.text.length > MAX_JSON_KEPT_CHARS) {
      this.truncated = true;
      this.text = this.text.slice(-JSON_TAIL_CHARS);
    }
  }

  finish(): TokenUsage {
    this.text += this.decoder.decode();
    if (!this.truncated) return usageOfJson(this.text) ?? NO_TOKENS;
    // A huge body (many embeddings): OpenAI-style bodies end with their usage object.
    const match = /"usage"\s*:\s*(\{[^{}]*\})/.exec(this.text);
    const usageObject = match?.[1];
    return (usageObject === undefined ? undefined : usageOfJson(`{"usage":${usageObject}}`)) ?? NO_TOKENS;
  }
}
