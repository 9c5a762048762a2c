// Decides how many tokens one request may generate in its slot, or refuses the request with a
// message saying how many tokens were asked for and how many fit. Chat and completions share it.
import { RbeeError } from "../shared/errors.js";

export interface BudgetRequest {
  /** Tokens each slot holds: prompt and completion together. */
  contextSize: number;
  promptTokens: number;
  /** The client's explicit limit, if any, and the field it came in (for the error's `param`). */
  requested: { tokens: number; field: string } | undefined;
  /** Limit when none was asked for; undefined fills the slot. Shortened silently to what fits. */
  defaultTokens: number | undefined;
  /** The field holding the prompt, named when the prompt alone does not fit: `messages` or `prompt`. */
  promptField: string;
  /** What the message calls the prompt's tokens' place; `in the <promptField>` unless given. */
  promptPlace?: string;
}

/**
 * Like OpenAI, an explicit limit that does not fit next to the prompt is an error rather than
 * silently shortened. One token of the context stays free because node-llama-cpp would otherwise
 * "context shift", quietly erasing the start of the prompt instead of failing.
 */
export function completionBudget({ contextSize, promptTokens, requested, defaultTokens, promptField, promptPlace }: BudgetRequest): number {
  const room = contextSize - 1 - promptTokens;
  if (requested === undefined && room >= 1) return Math.min(defaultTokens ?? room, room);
  const asked = requested?.tokens ?? 1;
  if (room >= asked) return asked;
  const where = promptPlace ?? `in the ${promptField}`;
  throw new RbeeError(
    400,
    "context_length_exceeded",
    `This model's context holds ${contextSize} tokens, ${contextSize - 1} of them for a request (one stays free), but the request asks for ${promptTokens + asked} ` +
      `(${promptTokens} ${where} + ${asked} to generate)`,
    { param: room < 1 || requested === undefined ? promptField : requested.field },
  );
}
