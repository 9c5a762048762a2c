// Per-socket state kept in the WebSocket attachment, so it survives hibernation. Read back
// through zod: an attachment from an older deploy is treated as absent, never trusted. The
// message path reads it once per socket object and remembers it: deserializing and validating it
// for every message was a seventh of the queen's JavaScript on a relayed stream.
import { z } from "zod";

export const SocketAttachment = z.object({
  hiveName: z.string(),
  /** SHA-256 of the token the socket was opened with: revoking or rotating closes sockets of any other. */
  tokenHash: z.string(),
  connectedAtMs: z.number(),
  /** Set once the hive's hello was accepted; before that only a hello is allowed. */
  greeted: z.boolean(),
  /** The protocol the hive's hello spoke (absent before the hello, and in attachments older than this field). */
  protocol: z.number().int().optional(),
  /** The hive process's id (HIVE_INSTANCE_HEADER); absent from hives that send none. */
  instanceId: z.string().optional(),
});
export type SocketAttachment = z.infer<typeof SocketAttachment>;

export function readAttachment(ws: WebSocket): SocketAttachment | undefined {
  const parsed = SocketAttachment.safeParse(ws.deserializeAttachment());
  return parsed.success ? parsed.data : undefined;
}

/** The attachment each socket object last wrote or read on the message path. */
const remembered = new WeakMap<WebSocket, SocketAttachment>();

/** Writes `attachment` to `ws`; every write goes through here, so what is remembered stays current. */
export function writeAttachment(ws: WebSocket, attachment: SocketAttachment): void {
  ws.serializeAttachment(attachment);
  remembered.set(ws, attachment);
}

/**
 * readAttachment, remembered per socket object: for webSocketMessage, whose socket object is the
 * one the hello writes through. Elsewhere (the alarm, a close), read afresh.
 */
export function rememberedAttachment(ws: WebSocket): SocketAttachment | undefined {
  const known = remembered.get(ws);
  if (known) return known;
  const attachment = readAttachment(ws);
  if (attachment) remembered.set(ws, attachment);
  return attachment;
}
