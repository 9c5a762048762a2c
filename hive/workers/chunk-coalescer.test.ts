// ChunkCoalescer on a fake clock: text after a quiet gap goes at once, text in a burst waits for
// the interval and goes as one frame, a big buffer goes at once, and nothing is lost or reordered.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChunkCoalescer } from "./chunk-coalescer.js";

const INTERVAL_MS = 15;

let sent: string[];
let coalescer: ChunkCoalescer;

beforeEach(() => {
  vi.useFakeTimers();
  sent = [];
  coalescer = new ChunkCoalescer({ intervalMs: INTERVAL_MS, maxChars: 10, send: (text) => sent.push(text), now: () => Date.now() });
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

  it("holds text that comes within the interval and sends it together when the interval is over", () => {
    coalescer.push("a");
    vi.advanceTimersByTime(5);
    coalescer.push("b");
    coalescer.push("c");
    expect(sent).toEqual(["a"]);
    vi.advanceTimersByTime(INTERVAL_MS - 5 - 1);
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

  it("flush sends what waits; dispose drops a send still waiting", () => {
    coalescer.push("a");
    coalescer.push("b");
    coalescer.flush();
    expect(sent).toEqual(["a", "b"]);
    coalescer.push("c");
    coalescer.dispose();
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
    // Sends are far fewer than pushes: one per interval while text keeps coming.
    expect(sent.length).toBeLessThan(250);
  });
});
