// The flow-control limits of a relayed response, which the hive (reading the worker's answer)
// and the queen (passing it on to the client) both keep to. Positions in a response are byte
// offsets into its body as UTF-8, counted the same way by both ends.

/**
 * Bytes of a response the hive sends ahead of the queen's acknowledgements, per request; with
 * this many unacknowledged it stops reading the worker's answer, and the worker's socket fills.
 * 1 MiB keeps a fast stream from ever waiting on an ack (a token is ~150 bytes of SSE; an ack
 * comes every RELAY_ACK_BYTES) while a client that stops reading holds at most this much of the
 * queen's memory: a 100 MB embeddings answer no longer lands in a Durable Object.
 */
export const RELAY_WINDOW_BYTES = 1024 * 1024;

/**
 * The queen acknowledges what its client's side pulled once this many bytes have gone
 * unacknowledged: one ack frame per 64 KiB, never one per token; and the whole answer once its end
 * has come, when RELAY_END_ACK_BYTES or more of it were unacknowledged (RELAY_END_ACK_BYTES). Well below RELAY_WINDOW_BYTES,
 * so the window reopens long before the hive would wait.
 */
export const RELAY_ACK_BYTES = 64 * 1024;

/**
 * An answer the worker finished with this many bytes or more unacknowledged is kept by the hive
 * until the queen acknowledges its end (one more ack frame, for it alone): a socket cut while the
 * end is on its way (a slow uplink holds tens of KB in transit) is then resumed, not generated
 * again. A shorter rest is forgotten at its end, as it always was: an ack frame for every short
 * answer would cost both ends a wake-up per request, and one cut in transit is continued instead.
 */
export const RELAY_END_ACK_BYTES = 16 * 1024;

/**
 * How long the hive keeps an answer whose queen socket dropped, for the queen to resume it
 * (a `resume` frame, once the hive is back): a deploy resets the queen's Durable Objects and
 * drops every hive socket, and a hive is back within a few seconds of backoff. The worker goes
 * on generating meanwhile, up to the window; after this the relay is aborted.
 */
export const RELAY_RESUME_GRACE_MS = 30_000;

/**
 * Bytes before the last acknowledged offset the hive still keeps for a resume. The queen
 * acknowledges what its relaying object handed on, and what is between that object and the
 * client's request when a reset strikes is lost with it: the resume starts from what the client
 * has, which may be this much behind the ack.
 */
export const RELAY_REPLAY_BEHIND_BYTES = 256 * 1024;

/**
 * How one event of a relayed event stream ends: a blank line, as rbee's workers end every event
 * (no CRLF line ends, no comments). A resume offset is always just after one, and the queen adds
 * its own error event only there: glued to a cut event, it would read as neither. As bytes, it is
 * two line feeds (EVENT_END_BYTE twice).
 */
export const EVENT_END = "\n\n";
export const EVENT_END_BYTE = 0x0a;
