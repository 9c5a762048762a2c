// rbee's own request field `rbee_cache_scope`: whose prompts a worker's slot may reuse for this
// request. A slot keeps its last request's tokens evaluated, and a request that shares their start
// evaluates only the rest and is told so (`usage.prompt_tokens_details.cached_tokens`). Between
// two API keys that would tell one key how much of a guessed prompt another key's conversation
// shares, so the queen sets the scope to its key's (any value a client sent is replaced), and a
// worker chooses and counts a slot's tokens as cached only for a request of the scope that left
// them. Requests made to a worker directly have no scope, and share theirs.
import { z } from "zod";

/** At most this long: the queen sends a fixed-length fingerprint. */
const MAX_SCOPE_CHARS = 64;

/** The field as the chat and completion request schemas add it. */
export const CacheScopeField = { rbee_cache_scope: z.string().max(MAX_SCOPE_CHARS).optional() };
