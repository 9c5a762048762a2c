// Polling between tokens: when it starts and stops, with a hand-driven clock, and what it does to
// the event loop, with the real one.
import { performance } from "node:perf_hooks";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { pollWindowUs, TokenPoller } from "./token-poller.js";

/** A poller on a clock the test moves, in ms. */
function pollerAt(windowUs: number): { poller: TokenPoller; clock: { ms: number } } {
  const clock = { ms: 1000 };
  return { poller: new TokenPoller({ windowUs, now: () => clock.ms }), clock };
}

/** Tokens `gapMs` apart, from the clock's time on. */
function tokens(poller: TokenPoller, clock: { ms: number }, count: number, gapMs: number): void {
  for (let i = 0; i < count; i++) {
    clock.ms += gapMs;
    poller.onToken();
  }
}

describe("TokenPoller", () => {
  it("polls once tokens come closer than its window, and stops a window after the last one", async () => {
    const { poller, clock } = pollerAt(2000);
    poller.onGenerationStart();
    poller.onToken();
    expect(poller.isPolling).toBe(false); // one token says nothing of the gaps yet
    tokens(poller, clock, 3, 0.2);
    expect(poller.isPolling).toBe(true);
    await nextTurn();
    expect(poller.isPolling).toBe(true); // within the window: still polling
    clock.ms += 2.5;
    await nextTurn();
    await nextTurn();
    expect(poller.isPolling).toBe(false);
  });

  it("never polls for tokens further apart than its window, nor with a window of 0", () => {
    const slow = pollerAt(2000);
    slow.poller.onGenerationStart();
    tokens(slow.poller, slow.clock, 10, 20);
    expect(slow.poller.isPolling).toBe(false);
    const off = pollerAt(0);
    off.poller.onGenerationStart();
    tokens(off.poller, off.clock, 10, 0.1);
    expect(off.poller.isPolling).toBe(false);
  });

  it("stops polling when tokens slow down", async () => {
    const { poller, clock } = pollerAt(2000);
    poller.onGenerationStart();
    tokens(poller, clock, 5, 0.2);
    expect(poller.isPolling).toBe(true);
    tokens(poller, clock, 20, 30);
    clock.ms += 2.5;
    await nextTurn();
    await nextTurn();
    expect(poller.isPolling).toBe(false);
    tokens(poller, clock, 1, 30);
    expect(poller.isPolling).toBe(false); // the gaps now average more than the window
  });

  it("does not count the wait between requests, nor a prompt's, as a gap between tokens", async () => {
    const { poller, clock } = pollerAt(2000);
    poller.onGenerationStart();
    tokens(poller, clock, 5, 0.2);
    clock.ms += 60_000; // idle
    await nextTurn();
    await nextTurn();
    expect(poller.isPolling).toBe(false);
    // The next request polls at once: for its first token, and on.
    poller.onGenerationStart();
    expect(poller.isPolling).toBe(true);
    tokens(poller, clock, 1, 50); // a long prompt
    tokens(poller, clock, 1, 0.2);
    expect(poller.isPolling).toBe(true);
    clock.ms += 2.5; // let it stop, so it does not poll on through the next test
    await nextTurn();
    await nextTurn();
    expect(poller.isPolling).toBe(false);
  });

  it("keeps the event loop from sleeping while it polls, and lets it sleep after", async () => {
    // A window far longer than the gaps here, so a busy machine cannot stretch them past it.
    const poller = new TokenPoller({ windowUs: 200_000 });
    poller.onGenerationStart();
    for (let i = 0; i < 3; i++) {
      await sleep(1);
      poller.onToken();
    }
    expect(poller.isPolling).toBe(true);
    const polling = performance.eventLoopUtilization();
    await sleep(50);
    // Utilization is the part of the time the loop was not blocked waiting for I/O.
    expect(performance.eventLoopUtilization(polling).utilization).toBeGreaterThan(0.9);
    await sleep(250);
    expect(poller.isPolling).toBe(false);
    const idle = performance.eventLoopUtilization();
    await sleep(50);
    expect(performance.eventLoopUtilization(idle).utilization).toBeLessThan(0.5);
  });
});

describe("pollWindowUs", () => {
  it("polls as asked on a GPU, or on a CPU with a core to spare, but not where every core computes", () => {
    expect(pollWindowUs(2000, { device: "cuda", threads: 16, cpus: 16 })).toBe(2000);
    expect(pollWindowUs(2000, { device: "cpu", threads: 1, cpus: 2 })).toBe(2000);
    expect(pollWindowUs(2000, { device: "cpu", threads: 2, cpus: 2 })).toBe(0);
    expect(pollWindowUs(0, { device: "metal", threads: 1, cpus: 8 })).toBe(0);
  });
});
