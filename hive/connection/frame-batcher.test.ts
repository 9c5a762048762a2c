// FrameBatcher with the flush run by hand: frames of one turn leave as one message (a lone frame
// as itself, several as a batch the queen's schema accepts, in order), a hello or ping leaves
// alone after what was queued, batches stay within their size and count, and nothing queued for
// a socket that went reaches the next one.
import { describe, expect, it } from "vitest";
import { HiveToQueenFrame, MAX_BATCH_FRAMES } from "../../shared/protocol/hive-frames.js";
import { FrameBatcher } from "./frame-batcher.js";

function batcher(maxBatchChars?: number) {
  const messages: string[] = [];
  const due: (() => void)[] = [];
  const socket = { open: true };
  const frames = new FrameBatcher({
    isOpen: () => socket.open,
    write: (text) => messages.push(text),
    schedule: (flush) => due.push(flush),
    ...(maxBatchChars === undefined ? {} : { maxBatchChars }),
  });
  /** The end of the turn: the scheduled flushes run. */
  const endTurn = () => due.splice(0).forEach((flush) => flush());
  /** Each message as the queen parses it. */
  const received = () => messages.map((text) => HiveToQueenFrame.parse(JSON.parse(text)));
  return { frames, messages, endTurn, received, socket };
}

const chunk = (seq: number, data = "data: x\n\n") => ({ type: "response_chunk" as const, requestId: "req_batcher1", seq, data });
const head = { type: "response_head" as const, requestId: "req_batcher1", status: 200, headers: { "content-type": "application/json" } };
const end = (chunks: number) => ({ type: "response_end" as const, requestId: "req_batcher1", chunks });

describe("FrameBatcher", () => {
  it("sends the frames of one turn as one batch, in order, and a lone frame as itself", () => {
    const { frames, messages, endTurn, received } = batcher();
    expect(frames.send(head)).toBe(true);
    frames.send(chunk(0));
    frames.send(end(1));
    expect(messages).toEqual([]); // nothing before the turn ends
    endTurn();
    frames.send(chunk(1));
    endTurn();
    expect(received()).toEqual([{ type: "batch", frames: [head, chunk(0), end(1)] }, chunk(1)]);
  });

  it("sends a hello or a ping alone and at once, after the frames queued before it", () => {
    const { frames, endTurn, received } = batcher();
    frames.send(chunk(0));
    frames.send({ type: "ping" });
    frames.send(chunk(1));
    frames.send(chunk(2));
    endTurn();
    expect(received()).toEqual([chunk(0), { type: "ping" }, { type: "batch", frames: [chunk(1), chunk(2)] }]);
  });

  it("starts a new batch before one would pass its size or its frame count", () => {
    const data = "y".repeat(100);
    const { frames, endTurn, received } = batcher(2 * JSON.stringify(chunk(0, data)).length);
    for (let seq = 0; seq < 5; seq++) frames.send(chunk(seq, data));
    endTurn();
    expect(received().map((message) => (message.type === "batch" ? message.frames.length : 1))).toEqual([2, 2, 1]);

    const many = batcher();
    for (let seq = 0; seq < MAX_BATCH_FRAMES + 1; seq++) many.frames.send(chunk(seq));
    many.endTurn();
    expect(many.received().map((message) => (message.type === "batch" ? message.frames.length : 1))).toEqual([MAX_BATCH_FRAMES, 1]);
  });

  it("refuses frames while the socket is closed, and drops what was queued for a socket that went", () => {
    const { frames, messages, endTurn, received, socket } = batcher();
    socket.open = false;
    expect(frames.send(chunk(0))).toBe(false);
    socket.open = true;
    frames.send(chunk(1));
    frames.clear(); // the socket closed before the turn ended
    endTurn();
    frames.send(chunk(2));
    socket.open = false; // closed, not yet reported, before the turn ended
    endTurn();
    expect(messages).toEqual([]);
    socket.open = true;
    frames.send({ type: "ping" });
    expect(received()).toEqual([{ type: "ping" }]);
  });
});
