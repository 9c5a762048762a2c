// Per-socket state kept in the WebSocket attachment, so it survives hibernation. Read back
// through zod: an attachment from an older deploy is treated as absent, never trusted.
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
