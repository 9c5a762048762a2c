// PendingRelay acknowledges an answer's long unacknowledged rest once its end has come (the hive
// keeps such an answer until then, so that a socket cut while the end is in transit is resumed),
// and sends nothing more for a short rest, which the hive forgets at its end anyway.
import { describe, expect, it } from "vitest";
import { RELAY_END_ACK_BYTES } from "../../shared/protocol/relay-flow.js";
import { PendingRelay } from "../../queen/hive-session/pending-relay.js";

/** A relay whose answer, of one chunk of `bytes` bytes, came whole and unread; the acks it sent. */
function endedUnread(bytes: number): number[] {
  const acks: number[] = [];
  const relay = new PendingRelay({ onCancel: () => {}, onFinish: () => {}, onAck: (offset) => acks.push(offset) });
  relay.receiveHead({ status: 200, headers: { "content-type": "text/event-stream" } });
  relay.receiveChunk(0, `data: ${"x".repeat(bytes - 8)}\n\n`);
  relay.receiveEnd(1);
  return acks;
}

describe("a relayed answer's end", () => {
  it("acknowledges a rest of RELAY_END_ACK_BYTES or more as the end comes", () => {
    expect(endedUnread(RELAY_END_ACK_BYTES + 100)).toEqual([RELAY_END_ACK_BYTES + 100]);
  });

  it("acknowledges nothing more for a shorter rest", () => {
    expect(endedUnread(1000)).toEqual([]);
  });
});
