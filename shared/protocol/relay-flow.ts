// The flow-control and resume limits of a relayed response, which the hive (holding the worker's
// answer) and the queen (passing it on to the client) both keep to. Positions in a response are
// byte offsets into its body as UTF-8, counted the same way by both ends: the queen's route sees
// bytes, not frames, so an offset is what it can name when it asks for the rest of an answer.

/**
 * Bytes of a response the hive sends ahead of the queen's acknowledgements, per request; with
 * this many unacknowledged it stops reading the worker's answer, and the worker's socket fills.
 * 1 MiB keeps a fast stream from ever waiting on an ack (a token is ~150 bytes of SSE; an ack
 * comes every RELAY_ACK_BYTES) while a client that stops reading holds at most this much of the
 * hive's and the queen's memory: a 100 MB embeddings answer no longer lands in a Durable Object.
 */
export const RELAY_WINDOW_BYTES = 1024 * 1024;

/**
 * The queen acknowledges what its client pulled once this many bytes have gone unacknowledged
 * (and at the end of a response): one ack frame per 64 KiB, never one per token. Well below
 * RELAY_WINDOW_BYTES, so the window reopens long before the hive would wait.
 */
export const RELAY_ACK_BYTES = 64 * 1024;

/**
 * Acknowledged bytes the hive still keeps behind the latest ack: the queen acknowledges what its
 * Durable Object handed to the route's stream, and what was in transit there is lost with the
 * object, so a resume may start a little before the last ack.
 */
export const RELAY_REPLAY_MARGIN_BYTES = 256 * 1024;

/**
 * How long the hive keeps a response whose way to the client broke (its socket dropped, or the
 * queen's object holding the request was reset) for the queen to resume it, in ms. Covers a
 * deploy: the hive reconnects within seconds (jittered backoff) and the queen asks for the rest.
 * After it the hive aborts the generation: nobody is coming back for it.
 */
export const RELAY_RESUME_GRACE_MS = 30_000;
