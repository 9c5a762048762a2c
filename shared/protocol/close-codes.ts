// The WebSocket close codes of rbee's own (4000–4999 are for applications) that the queen closes
// a hive's socket with, and the hive acts on: one of them means "do not reconnect".
export const CloseCode = {
  /** A newer connection from the same hive took this one's place. */
  replaced: 4000,
  protocolMismatch: 4001,
  notGreeted: 4002,
  /** The hive's token was revoked or rotated: it must not reconnect with it. */
  tokenRevoked: 4003,
  /** The hive sent frames faster than HIVE_FRAME_RATE allows, after an `error` frame saying so; it may reconnect. */
  rateLimited: 4004,
  /** Nothing arrived on the socket for HEARTBEAT_TIMEOUT_INTERVALS heartbeat intervals (a half-open connection). */
  heartbeatTimeout: 4005,
} as const;
