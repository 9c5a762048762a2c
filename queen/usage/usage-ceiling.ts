// The most tokens an answer can truly have used. Its usage comes from the worker through its
// hive, and the queen bills it and counts it against the key's token limits: a broken or hostile
// hive that reported 9e15 tokens would lock the key out of every model for the day. What is billed
// is bounded by the request instead:
// - completion tokens by its `max_completion_tokens` or `max_tokens`, where it set one (an answer
//   continued by another worker adds up to the same budget: streams/continuation-request.ts), and
//   otherwise by the largest context a worker runs; an embedding has none;
// - prompt tokens by the request's length: each token of a prompt covers at least one byte of it
//   (a UTF-16 character is at most three), and a chat template adds at most TEMPLATE_TOKENS of its
//   own; a rerank reads the query again with each document, so its bound is one such per document.
import { MAX_CONTEXT_SIZE } from "../../shared/protocol/context-size.js";
import { INPUT_TOKENS_PATH, type RelayablePath } from "../../shared/protocol/hive-frames.js";
import { NO_TOKENS, type TokenUsage } from "./token-usage.js";

/** Tokens a chat template (roles, a system preamble, how tools are described) may add to a prompt. */
const TEMPLATE_TOKENS = 8192;

export type UsageCeiling = TokenUsage;

/** The ceiling of an answer to `request`, relayed to `path` as `body` (the JSON the worker reads). */
export function usageCeiling(request: object, path: RelayablePath, body: string): UsageCeiling {
  const perPrompt = Math.min(MAX_CONTEXT_SIZE, 3 * body.length + TEMPLATE_TOKENS);
  switch (path) {
    case INPUT_TOKENS_PATH:
      return NO_TOKENS; // a count generates nothing and bills nothing
    case "/v1/embeddings":
      return { promptTokens: perPrompt, completionTokens: 0 };
    case "/v1/rerank":
      return { promptTokens: perPrompt * documentCount(request), completionTokens: 0 };
    default:
      return { promptTokens: perPrompt, completionTokens: Math.min(MAX_CONTEXT_SIZE, completionBudget(request) ?? MAX_CONTEXT_SIZE) };
  }
}

/** `usage` with each count no higher than the ceiling's. */
export function withinCeiling(usage: TokenUsage, ceiling: UsageCeiling | undefined): TokenUsage {
  if (!ceiling) return usage;
  return {
    promptTokens: Math.min(usage.promptTokens, ceiling.promptTokens),
    completionTokens: Math.min(usage.completionTokens, ceiling.completionTokens),
  };
}

function completionBudget(request: object): number | undefined {
  const fields = request as { max_completion_tokens?: unknown; max_tokens?: unknown };
  for (const budget of [fields.max_completion_tokens, fields.max_tokens]) {
    if (typeof budget === "number" && Number.isSafeInteger(budget) && budget >= 0) return budget;
  }
  return undefined;
}

function documentCount(request: object): number {
  const { documents } = request as { documents?: unknown };
  return Array.isArray(documents) ? Math.max(1, documents.length) : 1;
}
