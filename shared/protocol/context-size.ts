/**
 * The largest context a worker takes (`--context-size`), in tokens: no answer's prompt or
 * completion can be longer, which bounds the usage the queen bills for one (queen/usage/usage-ceiling.ts).
 */
export const MAX_CONTEXT_SIZE = 1_048_576;
