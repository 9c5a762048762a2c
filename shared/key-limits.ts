// The limits an admin may give an API key (POST /v1/keys `limits`), as the queen checks them
// (queen/limits/key-limits.ts, which enforces them) and `rbee keys create --rpm/--tpm/--daily-tokens`
// offers them: defined once for both.
import { z } from "zod";

/** The largest value any one limit takes. */
export const MAX_KEY_LIMIT = 1_000_000_000_000;

/** The longest a key may be given to live, in days (`expires_in_days`); a key without it never expires. */
export const MAX_EXPIRES_IN_DAYS = 3650;

const Max = z.number().int().positive().max(MAX_KEY_LIMIT).nullable().optional();

/** `limits` of POST /v1/keys: requests per minute, tokens per minute, tokens per UTC day; a missing or null field sets no limit. */
export const KeyLimitsRequest = z.strictObject({ rpm: Max, tpm: Max, daily_tokens: Max });
export type KeyLimitsRequest = z.infer<typeof KeyLimitsRequest>;
