// Idle unload: which workers have sat idle past their keep-alive, and when the next one will.
import { describe, expect, it } from "vitest";
import type { LiveWorker } from "../../queen/scheduling/contracts.js";
import { IdleReaper } from "../../queen/scheduling/idle-reaper.js";
import type { ModelPolicy } from "../../queen/scheduling/model-policy.js";
import type { WorkerActivity } from "../../queen/scheduling/swap-policy.js";

const NOW = 1_000_000_000;
const MINUTE = 60_000;

function worker(workerId: string, state: LiveWorker["state"] = "ready"): LiveWorker {
  return { workerId, hiveName: "h", model: `model-${workerId}`, state, port: 1, slotsTotal: 1, device: "cpu", tokensPerSecond: 0, memoryRssBytes: 1, memoryVramBytes: null, lastSeenAtMs: NOW };
}

function context(activity: Record<string, Partial<WorkerActivity>>, queued: Record<string, number> = {}) {
  return {
    activity: (w: LiveWorker) => (activity[w.workerId] ? { inFlight: 0, lastActiveAtMs: NOW, residentSinceMs: NOW - 60 * MINUTE, ...activity[w.workerId] } : undefined),
    queued: (model: string) => queued[model] ?? 0,
    nowMs: NOW,
  };
}

describe("the idle reaper", () => {
  it("stops a ready worker idle past the default keep-alive, and no other", () => {
    const reaper = new IdleReaper(5 * MINUTE);
    const workers = [worker("wrk_idle"), worker("wrk_recent"), worker("wrk_busy"), worker("wrk_loading", "loading"), worker("wrk_waited")];
    const due = reaper.due(
      workers,
      context(
        {
          wrk_idle: { lastActiveAtMs: NOW - 6 * MINUTE },
          wrk_recent: { lastActiveAtMs: NOW - 4 * MINUTE },
          wrk_busy: { lastActiveAtMs: NOW - 60 * MINUTE, inFlight: 1 },
          wrk_loading: { lastActiveAtMs: NOW - 60 * MINUTE },
          wrk_waited: { lastActiveAtMs: NOW - 60 * MINUTE },
        },
        { "model-wrk_waited": 2 },
      ),
    );
    expect(due.map((w) => w.workerId)).toEqual(["wrk_idle"]);
  });

  it("honours the keep_alive the last request asked for: 0 unloads at once, forever never", () => {
    const reaper = new IdleReaper(5 * MINUTE);
    reaper.requestEnded("wrk_now", 0);
    reaper.requestEnded("wrk_forever", Number.POSITIVE_INFINITY);
    reaper.requestEnded("wrk_long", 60 * MINUTE);
    reaper.requestEnded("wrk_long", undefined); // a later request that said nothing keeps the ask
    const workers = [worker("wrk_now"), worker("wrk_forever"), worker("wrk_long")];
    const idle = context({ wrk_now: { lastActiveAtMs: NOW }, wrk_forever: { lastActiveAtMs: NOW - 1e9 }, wrk_long: { lastActiveAtMs: NOW - 30 * MINUTE } });
    expect(reaper.due(workers, idle).map((w) => w.workerId)).toEqual(["wrk_now"]);
    expect(reaper.nextDueAtMs(workers, idle)).toBe(NOW);
    expect(reaper.nextDueAtMs([worker("wrk_long"), worker("wrk_forever")], idle)).toBe(NOW + 30 * MINUTE);
    reaper.forget("wrk_long");
    expect(reaper.keepAliveMs("wrk_long")).toBe(5 * MINUTE);
  });
});

describe("the idle reaper under a model's policy", () => {
  const policyOf = (model: string): ModelPolicy | undefined =>
    ({
      "model-shared": { model, minWorkers: 1, maxWorkers: null, preferredHives: [], workerTypes: null, keepAliveSeconds: 3600, source: null, updatedAtMs: NOW },
      "model-wrk_never": { model, minWorkers: 0, maxWorkers: null, preferredHives: [], workerTypes: null, keepAliveSeconds: -1, source: null, updatedAtMs: NOW },
    })[model];

  it("uses the policy's keep_alive_seconds unless a request asked for its own", () => {
    const reaper = new IdleReaper(5 * MINUTE, policyOf);
    const long = { ...worker("wrk_a"), model: "model-shared" };
    expect(reaper.keepAliveMs("wrk_a", "model-shared")).toBe(60 * MINUTE);
    expect(reaper.keepAliveMs("wrk_never", "model-wrk_never")).toBe(Number.POSITIVE_INFINITY);
    reaper.requestEnded("wrk_a", MINUTE);
    expect(reaper.keepAliveMs("wrk_a", "model-shared")).toBe(MINUTE);
    expect(reaper.due([long, worker("wrk_never")], context({ wrk_a: { lastActiveAtMs: NOW - 2 * MINUTE }, wrk_never: { lastActiveAtMs: NOW - 1e9 } })).map((w) => w.workerId)).toEqual([]);
  });

  it("never stops the min_workers most recently used workers of a model, nor sets an alarm for them", () => {
    const reaper = new IdleReaper(5 * MINUTE, policyOf);
    const shared = (id: string) => ({ ...worker(id), model: "model-shared" });
    const workers = [shared("wrk_old"), shared("wrk_recent")];
    const idle = context({ wrk_old: { lastActiveAtMs: NOW - 120 * MINUTE }, wrk_recent: { lastActiveAtMs: NOW - 90 * MINUTE } });
    expect(reaper.due(workers, idle).map((w) => w.workerId)).toEqual(["wrk_old"]);
    expect(reaper.due([shared("wrk_recent")], idle)).toEqual([]);
    expect(reaper.nextDueAtMs([shared("wrk_recent")], idle)).toBeUndefined();
  });
});
