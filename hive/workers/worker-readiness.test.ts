import { describe, expect, it } from "vitest";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import { fakeHeartbeat } from "../../test/support/fake-heartbeat.js";
import { WorkerReadiness } from "./worker-readiness.js";

function heartbeat(workerId: string, state: WorkerHeartbeat["state"], extra: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return fakeHeartbeat({ workerId, state, ...extra });
}

const waitOptions = (signal = new AbortController().signal) => ({ signal, silenceMs: 5000, onLoading: () => {} });

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

  it("rejects when the worker goes silent while loading, and when the job is cancelled", async () => {
    const readiness = new WorkerReadiness();
    await expect(readiness.waitUntilReady("wrk_silent", { ...waitOptions(), silenceMs: 50 })).rejects.toMatchObject({ code: "worker_failed_to_load" });
    const cancel = new AbortController();
    const waiting = readiness.waitUntilReady("wrk_cancelled", waitOptions(cancel.signal));
    cancel.abort(new Error("job cancelled"));
    await expect(waiting).rejects.toThrow("job cancelled");
  });
});
