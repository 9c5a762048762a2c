// The limits an admin sets on one API key (POST /v1/keys `limits`): requests per minute, tokens
// per minute, tokens per UTC day. They join the queen's per-key floor (client-limits.ts) in the
// key's RateLimiter: requests are taken as they arrive; token limits refuse a request once their
// window is spent and are charged after the answer (charge-tokens.ts).
import { KeyLimitsRequest } from "../../shared/key-limits.js";
import { type ApiKeyRecord, apiKeys } from "../db/schema.js";
import type { Limit } from "./limit.js";

// The request's shape is shared with the CLI (shared/key-limits.ts).
export { KeyLimitsRequest };

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Limit names as errors, /v1/keys and /v1/usage read them. */
export const KEY_LIMIT_NAMES = { rpm: "requests_per_minute", tpm: "tokens_per_minute", dailyTokens: "tokens_per_day" } as const;

/** A key's limits as stored (api_keys columns) and cached; null: no such limit. */
export interface KeyLimits {
  rpm: number | null;
  tpm: number | null;
  dailyTokens: number | null;
}

export const NO_KEY_LIMITS: KeyLimits = { rpm: null, tpm: null, dailyTokens: null };

/** The api_keys columns that hold a key's limits, as a drizzle selection that reads as KeyLimits. */
export const KEY_LIMIT_COLUMNS = { rpm: apiKeys.requestsPerMinute, tpm: apiKeys.tokensPerMinute, dailyTokens: apiKeys.tokensPerDay };

/** The limits a stored key carries. */
export function keyLimitsOfRecord(record: Pick<ApiKeyRecord, "requestsPerMinute" | "tokensPerMinute" | "tokensPerDay">): KeyLimits {
  return { rpm: record.requestsPerMinute, tpm: record.tokensPerMinute, dailyTokens: record.tokensPerDay };
}

export function keyLimitsOf(request: KeyLimitsRequest | undefined): KeyLimits {
  return { rpm: request?.rpm ?? null, tpm: request?.tpm ?? null, dailyTokens: request?.daily_tokens ?? null };
}

/** The limits as the API shows them. */
export function keyLimitsView(limits: KeyLimits): { rpm: number | null; tpm: number | null; daily_tokens: number | null } {
  return { rpm: limits.rpm, tpm: limits.tpm, daily_tokens: limits.dailyTokens };
}

export function requestLimitsOf(limits: KeyLimits): Limit[] {
  return limits.rpm === null ? [] : [{ name: KEY_LIMIT_NAMES.rpm, windowMs: MINUTE_MS, max: limits.rpm }];
}

export function tokenLimitsOf(limits: KeyLimits): Limit[] {
  const tokenLimits: Limit[] = [];
  if (limits.tpm !== null) tokenLimits.push({ name: KEY_LIMIT_NAMES.tpm, windowMs: MINUTE_MS, max: limits.tpm, unit: "tokens" });
  // A UTC day, like usage_daily's rows, so /v1/usage and the limit agree on what "today" is.
  if (limits.dailyTokens !== null) tokenLimits.push({ name: KEY_LIMIT_NAMES.dailyTokens, windowMs: DAY_MS, max: limits.dailyTokens, unit: "tokens", aligned: true });
  return tokenLimits;
}
