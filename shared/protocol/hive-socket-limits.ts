// The limits both ends of a hive's socket keep to: how fast a hive may send frames, how long a
// silent socket is trusted, and how often what a hive says about its machine reaches D1. The
// queen enforces them; the hive knows them so it stays well inside.

/**
 * Frames a hive may send: a burst of `burstFrames`, refilled at `framesPerSecond`. Generous for
 * token streams (the hive coalesces tokens; 16 busy streams are a few hundred frames a second)
 * and heartbeats; a flood beyond it gets an `error` frame, then close code 4004 (rateLimited).
 */
export const HIVE_FRAME_RATE = { burstFrames: 4000, framesPerSecond: 2000 } as const;

/** A socket on which nothing arrived for this many heartbeat intervals is dead (half-open): both ends drop it. */
export const HEARTBEAT_TIMEOUT_INTERVALS = 3;

/** The queen writes a hive's hello and hive_status facts to D1 at most once per this many ms (later ones wait). */
export const HIVE_RECORD_MIN_INTERVAL_MS = 10_000;

/** The heartbeat interval a hive assumes until the queen's welcome names the real one, ms. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;
