// A legacy completion's prompt (and suffix) is the client's own text for the model, read as
// llama.cpp's server reads one: special tokens spelled in it are those tokens. An editor's
// fill-in-the-middle prompt spells the model's FIM tokens (`<|fim_prefix|>…<|fim_suffix|>…
// <|fim_middle|>`), and read as plain text they would be characters the model never saw there.
// (A chat message's text is never read this way: a role marker a user types stays text, and
// cannot end the turn.) A request that sends the text after the cursor as `suffix` instead has
// the model's own FIM tokens put around the two (LlamaCompletion's infill).
import { type LlamaModel, LlamaVocabularyType, type Token } from "node-llama-cpp";
import { RbeeError } from "../shared/errors.js";

/**
 * Whether LlamaCompletion puts the model's BOS token before the prompt: node-llama-cpp's rule
 * (resolveBeginningTokenToPrepend, not exported) by vocabulary type, then the model's own flag.
 */
export function prependsBos(model: LlamaModel): boolean {
  if (model.tokens.bos === null) return false;
  switch (model.vocabularyType) {
    case LlamaVocabularyType.rwkv:
    case LlamaVocabularyType.ugm:
      return false;
    case LlamaVocabularyType.wpm:
      return true;
    default:
      return model.tokens.shouldPrependBosToken;
  }
}

/**
 * `text`'s tokens, its special tokens parsed, as LlamaCompletion evaluates them after the BOS it
 * prepends (trimLeadingSpace). A BOS the prompt spells itself is dropped there: a second BOS
 * makes most models answer worse, and a template that writes `<s>` means the one BOS.
 */
export function rawPromptTokens(model: LlamaModel, text: string): Token[] {
  const tokens = model.tokenize(text, true, "trimLeadingSpace");
  return prependsBos(model) && tokens[0] === model.tokens.bos ? tokens.slice(1) : tokens;
}

/**
 * A legacy request's prompt tokens: its text with special tokens parsed (rawPromptTokens), except
 * the last `answerChars` characters, an answer generated so far that a failover continuation
 * appended (`rbee_answer_chars`): those are the model's own words, read as plain text.
 */
export function completionPromptTokens(model: LlamaModel, prompt: string, answerChars = 0): Token[] {
  if (answerChars === 0) return rawPromptTokens(model, prompt);
  const cut = prompt.length - answerChars;
  return [...rawPromptTokens(model, prompt.slice(0, cut)), ...model.tokenize(prompt.slice(cut), false, "trimLeadingSpace")];
}

/** A suffix to fill in before: its tokens, and how many FIM tokens infill adds around prompt and suffix. */
export interface InfillSuffix {
  tokens: Token[];
  markerTokens: number;
}

/**
 * The suffix's tokens for infill, or a 400 naming `suffix` when the model has no FIM tokens (it
 * was not trained to fill in, and a suffix would only be text it continues past).
 */
export function infillSuffix(model: LlamaModel, suffix: string): InfillSuffix {
  const { prefix, suffix: suffixToken, middle } = model.tokens.infill;
  if (prefix === null || suffixToken === null) {
    throw new RbeeError(
      400,
      "infill_not_supported",
      "suffix: this model has no fill-in-the-middle tokens, so it cannot complete between a prompt and a suffix; leave suffix out, or serve a model trained to fill in code (such as Qwen2.5-Coder or CodeLlama)",
      { param: "suffix" },
    );
  }
  // Prefix and suffix tokens, and a middle one where the model has it (LlamaCompletion's order).
  return { tokens: model.tokenize(suffix, true, "trimLeadingSpace"), markerTokens: middle === null ? 2 : 3 };
}
