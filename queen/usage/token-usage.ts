// The token counts of one response, read from its `usage` object wherever it is: OpenAI chat's
// (prompt/completion tokens), or the Responses and Anthropic dialects' (input/output tokens; a
// Responses stream nests it in its closing event's `response`).
import { z } from "zod";

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export const NO_TOKENS: TokenUsage = { promptTokens: 0, completionTokens: 0 };

// Embeddings report only prompt_tokens; a missing count is 0, not an error.
const UsageObject = z.object({
  prompt_tokens: z.number().int().nonnegative().optional(),
  completion_tokens: z.number().int().nonnegative().optional(),
  input_tokens: z.number().int().nonnegative().optional(),
  output_tokens: z.number().int().nonnegative().optional(),
});
const WithUsage = z.object({ usage: UsageObject.nullish(), response: z.object({ usage: UsageObject.nullish() }).nullish() });

/** The usage of a parsed response body or stream chunk, or undefined when it carries none. */
export function usageOf(value: unknown): TokenUsage | undefined {
  const parsed = WithUsage.safeParse(value);
  const usage = parsed.success ? (parsed.data.usage ?? parsed.data.response?.usage) : undefined;
  if (!usage) return undefined;
  return { promptTokens: usage.prompt_tokens ?? usage.input_tokens ?? 0, completionTokens: usage.completion_tokens ?? usage.output_tokens ?? 0 };
}

/** usageOf(JSON.parse(text)), or undefined when the text is not JSON. */
export function usageOfJson(text: string): TokenUsage | undefined {
  try {
    return usageOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}
