// Per-socket state kept in the WebSocket attachment, so it survives hibernation. Read back
// through zod: an attachment from an older deploy is treated as absent, never trusted. What was
// read or written is kept in memory per socket object, so the HiveSession's every frame does not
// deserialize and re-validate it (a woken object has new socket objects, and reads them again).
import { z } from "zod";

export const SocketAttachment = z.object({
  hiveName: z.string(),
  /** SHA-256 of the token the socket was opened with: revoking or rotating closes sockets of any other. */
  tokenHash: z.string(),
  connectedAtMs: z.number(),
  /** Set once the hive's hello was accepted; before that only a hello is allowed. */
  greeted: z.boolean(),
});
export type SocketAttachment = z.infer<typeof SocketAttachment>;

const known = new WeakMap<WebSocket, SocketAttachment>();

export function readAttachment(ws: WebSocket): SocketAttachment | undefined {
  const cached = known.get(ws);
  if (cached) return cached;
  const parsed = SocketAttachment.safeParse(ws.deserializeAttachment());
  if (!parsed.success) return undefined;
  known.set(ws, parsed.data);
  return parsed.data;
}

export function writeAttachment(ws: WebSocket, attachment: SocketAttachment): void {
  ws.serializeAttachment(attachment);
  known.set(ws, attachment);
}
