// Joins byte chunks into one: the relay's body hands a backlog on as one chunk
// (hive-session/pending-relay.ts), and the resumable body re-joins a character split across two
// (resumable-body.ts).

export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.byteLength;
  }
  return whole;
}
