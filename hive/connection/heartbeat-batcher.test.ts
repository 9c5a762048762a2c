// HeartbeatBatcher on vitest's fake clock: a worker's first heartbeat and a change of its state go
// at once, carrying whatever waited; unchanged ones go together at a steady tick, so a worker
// beating every interval is forwarded every interval; a reset (a new queen socket) makes every
// worker news again; heartbeats the socket could not take wait, still news, for the next flush.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import { fakeHeartbeat } from "../../test/support/fake-heartbeat.js";
import { HeartbeatBatcher } from "./heartbeat-batcher.js";

const INTERVAL_MS = 1000;

function batcher() {
  const frames: string[][] = [];
  const socket = { open: true };
  const batch = new HeartbeatBatcher({
    send: (frame) => {
      if (!socket.open) return false;
      frames.push(frame.heartbeats.map((heartbeat) => `${heartbeat.workerId}:${heartbeat.state}`));
      return true;
    },
    intervalMs: () => INTERVAL_MS,
  });
  return { batch, frames, socket };
}

const beat = (workerId: string, state: WorkerHeartbeat["state"] = "ready") => fakeHeartbeat({ workerId, state });

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("HeartbeatBatcher", () => {
  it("sends a worker's first heartbeat at once and groups the unchanged ones of an interval into one frame", () => {
    const { batch, frames } = batcher();
    for (const id of ["wrk_a", "wrk_b", "wrk_c"]) batch.observe(beat(id));
    expect(frames).toEqual([["wrk_a:ready"], ["wrk_b:ready"], ["wrk_c:ready"]]);

    batch.observe(beat("wrk_a"));
    vi.advanceTimersByTime(300);
    batch.observe(beat("wrk_b", "busy")); // ready → busy: still serving, nothing to act on
    vi.advanceTimersByTime(300);
    batch.observe(beat("wrk_c"));
    batch.observe(beat("wrk_a")); // a newer one of the same worker replaces the waiting one
    expect(frames).toHaveLength(3);
    vi.advanceTimersByTime(INTERVAL_MS - 600);
    expect(frames.at(-1)).toEqual(["wrk_a:ready", "wrk_b:busy", "wrk_c:ready"]);
    expect(frames).toHaveLength(4);
    vi.advanceTimersByTime(10 * INTERVAL_MS);
    expect(frames).toHaveLength(4); // nothing waiting, nothing sent
  });

  it("forwards a worker that beats every interval every interval, whatever its phase", () => {
    const sentAt: number[] = [];
    const batch = new HeartbeatBatcher({ send: () => sentAt.push(Date.now()) > 0, intervalMs: () => INTERVAL_MS });
    const start = Date.now();
    batch.observe(beat("wrk_a")); // first: at once
    vi.advanceTimersByTime(INTERVAL_MS - 1); // the next beat just before a tick would start
    for (let n = 0; n < 5; n += 1) {
      batch.observe(beat("wrk_a"));
      vi.advanceTimersByTime(INTERVAL_MS);
    }
    const gaps = sentAt.slice(1).map((at, index) => at - (sentAt[index] ?? start));
    expect(sentAt).toHaveLength(6);
    expect(Math.max(...gaps.slice(1))).toBe(INTERVAL_MS);
    expect(gaps[0]).toBeLessThan(2 * INTERVAL_MS);
  });

  it("sends a change of state at once, with every heartbeat that was waiting", () => {
    const { batch, frames } = batcher();
    batch.observe(beat("wrk_a", "loading"));
    batch.observe(beat("wrk_b"));
    batch.observe(beat("wrk_b"));
    batch.observe(beat("wrk_a", "ready")); // loaded: placement may use it now
    expect(frames).toEqual([["wrk_a:loading"], ["wrk_b:ready"], ["wrk_b:ready", "wrk_a:ready"]]);
    batch.observe(beat("wrk_a", "stopped"));
    expect(frames.at(-1)).toEqual(["wrk_a:stopped"]);
    // A stopped worker is forgotten: the same id heard again is a first heartbeat.
    batch.observe(beat("wrk_a", "ready"));
    expect(frames.at(-1)).toEqual(["wrk_a:ready"]);
  });

  it("after a reset sends each worker's next heartbeat at once, the latest of it", () => {
    const { batch, frames } = batcher();
    batch.observe(beat("wrk_a"));
    batch.observe(beat("wrk_a", "busy"));
    batch.reset();
    vi.advanceTimersByTime(2 * INTERVAL_MS);
    expect(frames).toEqual([["wrk_a:ready"]]);
    batch.observe(beat("wrk_a"));
    expect(frames).toEqual([["wrk_a:ready"], ["wrk_a:ready"]]);
  });

  it("keeps what the socket could not take, still news, and sends it at the next flush (the queen's welcome)", () => {
    const { batch, frames, socket } = batcher();
    socket.open = false; // a hive just started: its workers beat before the queen welcomes it
    batch.observe(beat("wrk_a"));
    batch.observe(beat("wrk_b", "loading"));
    batch.observe(beat("wrk_a", "busy"));
    vi.advanceTimersByTime(2 * INTERVAL_MS);
    expect(frames).toEqual([]);
    socket.open = true;
    batch.flush();
    expect(frames).toEqual([["wrk_a:busy", "wrk_b:loading"]]);
    // Sent now, they are no longer news: an unchanged one waits for the tick.
    batch.observe(beat("wrk_a", "busy"));
    expect(frames).toHaveLength(1);
    // A worker that exited while the socket was down is not announced when it is back.
    socket.open = false;
    batch.observe(beat("wrk_c"));
    batch.forget("wrk_c");
    socket.open = true;
    batch.flush();
    expect(frames.at(-1)).toEqual(["wrk_a:busy"]);
  });
});
