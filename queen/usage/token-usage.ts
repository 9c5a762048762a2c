// The token counts of one response, read from OpenAI's `usage` object wherever the worker put it.
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
});
const WithUsage = z.object({ usage: UsageObject.nullish() });

/** The usage of a parsed response body or stream chunk, or undefined when it carries none. */
export function usageOf(value: unknown): TokenUsage | undefined {
  const parsed = WithUsage.safeParse(value);
  if (!parsed.success || !parsed.data.usage) return undefined;
  return { promptTokens: parsed.data.usage.prompt_tokens ?? 0, completionTokens: parsed.data.usage.completion_tokens ?? 0 };
}

/** usageOf(JSON.parse(text)), or undefined when the text is not JSON. */
export function usageOfJson(text: string): TokenUsage | undefined {
  try {
    return usageOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}
