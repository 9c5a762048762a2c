// ChunkCoalescer on a fake clock: text after a quiet gap goes at once, text in a burst waits for
// the next tick and goes as one frame, a big buffer goes at once, and nothing is lost or
// reordered. Streams sharing the hive's FlushTick send their waiting text in the same turn, so
// the FrameBatcher carries it to the queen as one message. The tick's interval grows with the
// streams in flight, up to its cap, and shrinks again as they end.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FrameBatcher } from "../connection/frame-batcher.js";
import { ChunkCoalescer } from "./chunk-coalescer.js";
import { FLUSH_TICK, FlushTick } from "./flush-tick.js";

const INTERVAL_MS = FLUSH_TICK.baseIntervalMs;

let tick: FlushTick;
let sent: string[];
let coalescer: ChunkCoalescer;

beforeEach(() => {
  vi.useFakeTimers();
  tick = new FlushTick();
  sent = [];
  coalescer = new ChunkCoalescer({ tick, maxChars: 10, send: (text) => sent.push(text), now: () => Date.now() });
});

afterEach(() => {
  coalescer.dispose();
  vi.useRealTimers();
});

describe("ChunkCoalescer", () => {
  it("sends the first text at once", () => {
    coalescer.push("a");
    expect(sent).toEqual(["a"]);
  });

  it("holds text that comes within the interval and sends it together at the next tick", () => {
    coalescer.push("a");
    vi.advanceTimersByTime(5);
    coalescer.push("b");
    vi.advanceTimersByTime(3);
    coalescer.push("c");
    expect(sent).toEqual(["a"]);
    vi.advanceTimersByTime(INTERVAL_MS - 3 - 1);
    expect(sent).toEqual(["a"]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(["a", "bc"]);
  });

  it("sends at once again after a quiet gap", () => {
    coalescer.push("a");
    vi.advanceTimersByTime(INTERVAL_MS + 30);
    coalescer.push("b");
    expect(sent).toEqual(["a", "b"]);
  });

  it("sends a full buffer at once, within the interval", () => {
    coalescer.push("a");
    coalescer.push("0123456789");
    expect(sent).toEqual(["a", "0123456789"]);
  });

  it("flush sends what waits; dispose drops a send still waiting, and the tick's timer with it", () => {
    coalescer.push("a");
    coalescer.push("b");
    coalescer.flush();
    expect(sent).toEqual(["a", "b"]);
    coalescer.push("c");
    expect(vi.getTimerCount()).toBe(1);
    coalescer.dispose();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(INTERVAL_MS * 2);
    expect(sent).toEqual(["a", "b"]);
  });

  it("keeps every character in order through any mix of bursts and gaps", () => {
    let expected = "";
    for (let i = 0; i < 500; i++) {
      const text = String.fromCharCode(97 + (i % 26)).repeat(1 + (i % 4));
      expected += text;
      coalescer.push(text);
      vi.advanceTimersByTime(i % 7 === 0 ? 40 : 1);
    }
    coalescer.flush();
    expect(sent.join("")).toBe(expected);
    // Sends are far fewer than pushes: one per tick while text keeps coming.
    expect(sent.length).toBeLessThan(250);
  });
});

describe("the tick's interval", () => {
  it("is the base interval for up to baseIntervalMs / perStreamMs streams, then grows with them, up to its cap", () => {
    const leaves = [tick.join()];
    expect(tick.intervalMs).toBe(INTERVAL_MS);
    const lastAtBase = INTERVAL_MS / FLUSH_TICK.perStreamMs;
    while (leaves.length < lastAtBase) leaves.push(tick.join());
    expect(tick.intervalMs).toBe(INTERVAL_MS);
    expect(tick.nextIntervalMs).toBe(INTERVAL_MS + FLUSH_TICK.perStreamMs);
    while (leaves.length < 40) leaves.push(tick.join());
    expect(tick.intervalMs).toBe(40 * FLUSH_TICK.perStreamMs);
    while (leaves.length < 1000) leaves.push(tick.join());
    expect(tick.intervalMs).toBe(FLUSH_TICK.maxIntervalMs);
    // Leaving twice counts once.
    for (const leave of leaves.slice(1)) leave(), leave();
    expect(tick.intervalMs).toBe(INTERVAL_MS);
    leaves[0]!();
    expect(tick.intervalMs).toBe(INTERVAL_MS);
  });

  it("holds a stream's text for the longer interval while many streams are in flight", () => {
    const leaves = Array.from({ length: 64 }, () => tick.join());
    coalescer.push("a");
    vi.advanceTimersByTime(INTERVAL_MS + 5); // a gap that is quiet for one stream, not for 64
    coalescer.push("b");
    vi.advanceTimersByTime(64 - 1);
    expect(sent).toEqual(["a"]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(["a", "b"]);
    for (const leave of leaves) leave();
  });
});

describe("streams sharing the hive's FlushTick", () => {
  interface ChunkFrame {
    requestId: string;
    seq: number;
    data: string;
  }

  /** `count` streams whose chunk frames go through one FrameBatcher; returns them and the frames of each message it wrote. */
  function streamsOnOneSocket(count: number): { streams: ChunkCoalescer[]; messages: ChunkFrame[][] } {
    const messages: ChunkFrame[][] = [];
    const write = (text: string) => {
      const message = JSON.parse(text) as ChunkFrame | { type: "batch"; frames: ChunkFrame[] };
      messages.push("frames" in message ? message.frames : [message]);
    };
    const batcher = new FrameBatcher({ isOpen: () => true, write });
    const streams = Array.from({ length: count }, (_, i) => {
      let seq = 0;
      return new ChunkCoalescer({ tick, maxChars: 1024, send: (data) => batcher.send({ type: "response_chunk", requestId: `req_${i}`, seq: seq++, data }), now: () => Date.now() });
    });
    return { streams, messages };
  }

  it("sends the waiting text of every stream in one message per tick, whenever each began waiting", () => {
    const { streams, messages } = streamsOnOneSocket(3);
    for (const stream of streams) {
      stream.push("first ");
      vi.advanceTimersByTime(2); // each stream's first token at its own time: three sends at once
    }
    vi.runOnlyPendingTimers(); // the batcher's setImmediate
    expect(messages).toHaveLength(3);
    // Now tokens keep coming, each stream's at its own moment within the interval.
    for (let round = 0; round < 4; round++) {
      for (const [i, stream] of streams.entries()) {
        stream.push(`t${round} `);
        vi.advanceTimersByTime(i === streams.length - 1 ? INTERVAL_MS - 2 * (streams.length - 1) : 2);
      }
    }
    for (const stream of streams) stream.flush();
    vi.runOnlyPendingTimers();
    // Per-stream timers would have sent a message per stream per interval (12 here); the shared tick sends one batch per tick.
    const later = messages.slice(3);
    expect(later.length).toBeLessThanOrEqual(5);
    for (const frames of later) expect(frames.map((frame) => frame.requestId)).toEqual(["req_0", "req_1", "req_2"]);
    // Nothing lost or reordered: each stream's frames, in seq order, carry its text.
    const frames = messages.flat();
    for (const [i] of streams.entries()) {
      const own = frames.filter((frame) => frame.requestId === `req_${i}`);
      expect(own.map((frame) => frame.seq)).toEqual(own.map((_, n) => n));
      expect(own.map((frame) => frame.data).join("")).toBe("first t0 t1 t2 t3 ");
    }
  });
});
