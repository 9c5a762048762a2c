import { describe, expect, it } from "vitest";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import { fakeHeartbeat } from "../../test/support/fake-heartbeat.js";
import { WorkerReadiness } from "./worker-readiness.js";

function heartbeat(workerId: string, state: WorkerHeartbeat["state"], extra: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return fakeHeartbeat({ workerId, state, ...extra });
}

const waitOptions = (signal = new AbortController().signal) => ({ signal, silenceMs: 5000, stallMs: 5000, onLoading: () => {} });

/** Sends `beat(n)` for the n-th loading heartbeat every few ms, as a loading worker does, until stopped. */
function beatEvery(readiness: WorkerReadiness, intervalMs: number, beat: (n: number) => WorkerHeartbeat): () => void {
  let n = 0;
  const timer = setInterval(() => readiness.observe(beat(n++)), intervalMs);
  return () => clearInterval(timer);
}

describe("WorkerReadiness", () => {
  it("lists the workers the hello names: heard lately and not stopped or failed, plus those found running and not heard yet", () => {
    const readiness = new WorkerReadiness();
    readiness.observe(heartbeat("wrk_live", "ready"));
    readiness.observe(heartbeat("wrk_loading", "loading"));
    readiness.observe(heartbeat("wrk_stopped", "stopped"));
    readiness.observe(heartbeat("wrk_failed", "failed"));
    expect(readiness.liveWorkerIds(60_000, ["wrk_reattaching", "wrk_stopped"]).sort()).toEqual(["wrk_live", "wrk_loading", "wrk_reattaching"]);
    // Heard too long ago (any time is too long for a limit of -1 ms): gone.
    expect(readiness.liveWorkerIds(-1)).toEqual([]);
  });

  it("leaves out a worker whose process exited, even one found running at start, and says so to a relay", () => {
    const readiness = new WorkerReadiness();
    readiness.observe(heartbeat("wrk_reattached", "ready"));
    readiness.observe(heartbeat("wrk_other", "busy"));
    readiness.exited("wrk_reattached");
    readiness.exited("wrk_never_heard"); // nothing to mark
    expect(readiness.liveWorkerIds(60_000, ["wrk_reattached"])).toEqual(["wrk_other"]);
    expect(readiness.lastHeard("wrk_reattached")?.exited).toBe(true);
    expect(readiness.lastHeard("wrk_never_heard")).toBeUndefined();
  });

  it("resolves with the ready heartbeat, reporting loading progress before it", async () => {
    const readiness = new WorkerReadiness();
    const progress: number[] = [];
    const ready = readiness.waitUntilReady("wrk_a", { ...waitOptions(), onLoading: (beat) => progress.push(beat.loadProgress ?? 0) });
    readiness.observe(heartbeat("wrk_a", "loading", { loadProgress: 0.5 }));
    readiness.observe(heartbeat("wrk_other", "ready"));
    readiness.observe(heartbeat("wrk_a", "ready"));
    expect((await ready).state).toBe("ready");
    expect(progress).toEqual([0.5]);
  });

  it("knows a worker that was ready before anyone asked (a small model loads at once)", async () => {
    const readiness = new WorkerReadiness();
    readiness.observe(heartbeat("wrk_fast", "ready"));
    expect((await readiness.waitUntilReady("wrk_fast", waitOptions())).state).toBe("ready");
  });

  it("rejects with the worker's own reason when it failed to load", async () => {
    const readiness = new WorkerReadiness();
    const ready = readiness.waitUntilReady("wrk_bad", waitOptions());
    readiness.observe(heartbeat("wrk_bad", "failed", { failure: "not a GGUF file" }));
    await expect(ready).rejects.toMatchObject({ code: "worker_failed_to_load", message: expect.stringContaining("not a GGUF file") });
  });

  // The windows here are small so the rule runs in a test; the hive's are a heartbeat interval or
  // more and --worker-load-stall-ms (5 minutes). The beats are timers due before the windows end,
  // so a paused test process fires them first and a busy machine cannot fake a stall.
  it("waits for a slow load as long as its progress keeps rising, many stall windows in all", async () => {
    const readiness = new WorkerReadiness();
    const stallMs = 300;
    const steps = 150; // ~3 s of beats every 20 ms: ten stall windows
    const ready = readiness.waitUntilReady("wrk_slow", { ...waitOptions(), silenceMs: stallMs, stallMs });
    let reachedReady = false;
    const stop = beatEvery(readiness, 20, (n) => {
      if (n < steps) return heartbeat("wrk_slow", "loading", { loadProgress: n / steps });
      reachedReady = true;
      return heartbeat("wrk_slow", "ready");
    });
    try {
      expect((await ready).state).toBe("ready");
      expect(reachedReady).toBe(true);
    } finally {
      stop();
    }
  });

  it("fails a load whose progress stands still for the stall window, though its heartbeats keep coming", async () => {
    const readiness = new WorkerReadiness();
    const ready = readiness.waitUntilReady("wrk_stuck", { ...waitOptions(), silenceMs: 5000, stallMs: 200 });
    // Stuck at 30%; a lower figure (a second phase restarting its count) is not progress either.
    const stop = beatEvery(readiness, 20, (n) => heartbeat("wrk_stuck", "loading", { loadProgress: n === 0 ? 0.3 : 0.3 - (n % 2) * 0.1 }));
    try {
      await expect(ready).rejects.toMatchObject({
        status: 504,
        code: "worker_load_stalled",
        message: expect.stringMatching(/^worker wrk_stuck made no loading progress for 200 ms \(stuck at 30% loaded\).*--worker-load-stall-ms/),
      });
    } finally {
      stop();
    }
  });

  it("counts a load that never starts moving as stalled too", async () => {
    const readiness = new WorkerReadiness();
    const ready = readiness.waitUntilReady("wrk_zero", { ...waitOptions(), stallMs: 100 });
    const stop = beatEvery(readiness, 20, () => heartbeat("wrk_zero", "loading", { loadProgress: 0 }));
    try {
      await expect(ready).rejects.toMatchObject({ code: "worker_load_stalled", message: expect.stringContaining("stuck at 0% loaded") });
    } finally {
      stop();
    }
  });

  it("rejects when the worker goes silent while loading, and when the job is cancelled", async () => {
    const readiness = new WorkerReadiness();
    await expect(readiness.waitUntilReady("wrk_silent", { ...waitOptions(), silenceMs: 50 })).rejects.toMatchObject({ code: "worker_failed_to_load" });
    const cancel = new AbortController();
    const waiting = readiness.waitUntilReady("wrk_cancelled", waitOptions(cancel.signal));
    cancel.abort(new Error("job cancelled"));
    await expect(waiting).rejects.toThrow("job cancelled");
  });
});
