// A model whose requests starve behind another model's steady traffic gets its turn: on a device
// that holds one worker, model a's worker always has a request in flight and more queued, so the
// swap rules (never stop a busy worker) would keep model b out until its requests' deadlines. Once
// b's longest-waiting request has waited SWAP_DRAIN_AFTER_SECONDS, a's worker is drained: it takes
// no new request, finishes the one it has, and only then stops, and b's worker starts. With the
// drain off ("0"), b waits until a's queue is empty, as before.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LeaseOutcome } from "../../queen/scheduling/contracts.js";
import { waitUntil } from "../../shared/wait-until.js";
import { oneWorkerDevice } from "./one-worker-device.js";

/** Worker a, loaded long enough to be swapped out at once; b's requests drain it after `drainAfterSeconds`. */
function busyDevice(drainAfterSeconds: number) {
  return oneWorkerDevice({ SWAP_MIN_RESIDENCY_SECONDS: "0", SWAP_DRAIN_AFTER_SECONDS: String(drainAfterSeconds) });
}

async function leaseOf(outcome: Promise<LeaseOutcome>): Promise<string> {
  const lease = await outcome;
  if (!lease.ok) throw new Error(`expected a lease, got ${lease.code}: ${lease.message}`);
  return lease.leaseId;
}

/** Whether `outcome` has settled by now. */
async function settled(outcome: Promise<unknown>): Promise<boolean> {
  return Promise.race([outcome.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50))]);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a starving model's swap", () => {
  it("drains the busy worker once b's requests have waited SWAP_DRAIN_AFTER_SECONDS: no new request for it, its own finishes, then the swap", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const { scheduler, spawned, stopped, ask } = busyDevice(1);
    const first = await leaseOf(ask("req_a1", "a"));
    const next = ask("req_a2", "a"); // a's queue never empties
    const b = ask("req_b", "b");
    expect({ spawned, stopped }, "b fits only where a's worker is busy: it waits").toEqual({ spawned: [], stopped: [] });

    await waitUntil(() => log.mock.calls.some(([line]) => String(line).startsWith("draining worker wrk_a")), 10_000, "a's worker to be drained for b");
    expect(log.mock.calls.map(([line]) => String(line)).find((line) => line.startsWith("draining worker wrk_a"))).toContain("stops once its 1 in flight end");
    expect({ spawned, stopped }, "a's request in flight is never cut: the stop waits for it").toEqual({ spawned: [], stopped: [] });

    scheduler.release(first, "ok");
    await waitUntil(() => spawned.length > 0, 5_000, "b's worker to be spawned once a's request ended");
    expect({ spawned, stopped }).toEqual({ spawned: ["b"], stopped: ["wrk_a"] });
    expect(await settled(next), "a's next request was not placed on the draining worker").toBe(false);

    scheduler.abandon("req_a2");
    scheduler.abandon("req_b");
    expect(await next).toMatchObject({ ok: false, code: "client_gone" });
    expect(await b).toMatchObject({ ok: false, code: "client_gone" });
  }, 20_000);

  it("gives the swap up, and the drained worker serves its own queue again, once nobody waits for the model it was for", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const { scheduler, spawned, stopped, ask } = busyDevice(1);
    const first = await leaseOf(ask("req_a1", "a"));
    const next = ask("req_a2", "a");
    const b = ask("req_b", "b");
    await waitUntil(() => log.mock.calls.some(([line]) => String(line).startsWith("draining worker wrk_a")), 10_000, "a's worker to be drained for b");

    scheduler.abandon("req_b"); // b's client gives up while a's request is still running
    expect(await b).toMatchObject({ ok: false, code: "client_gone" });
    await waitUntil(() => log.mock.calls.some(([line]) => String(line).includes("given up")), 5_000, "the swap to be given up");
    expect(log.mock.calls.map(([line]) => String(line)).find((line) => line.includes("given up"))).toContain("no request for 'b' waits any more");
    scheduler.release(first, "ok");
    expect(await next, "a's next request goes to its worker, which serves on").toMatchObject({ ok: true, workerId: "wrk_a" });
    expect({ spawned, stopped }).toEqual({ spawned: [], stopped: [] });
  }, 20_000);

  it("with SWAP_DRAIN_AFTER_SECONDS=0, b waits until a's queue is served and a's worker is idle", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const { scheduler, spawned, stopped, ask } = busyDevice(0);
    const first = await leaseOf(ask("req_a1", "a"));
    const next = ask("req_a2", "a");
    const b = ask("req_b", "b");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect({ spawned, stopped }, "no drain: b still waits").toEqual({ spawned: [], stopped: [] });

    scheduler.release(first, "ok");
    const second = await leaseOf(next);
    expect({ spawned, stopped }, "a's queue is served first").toEqual({ spawned: [], stopped: [] });
    scheduler.release(second, "ok");
    await waitUntil(() => spawned.length > 0, 5_000, "b's worker to be spawned once a is idle");
    expect({ spawned, stopped }).toEqual({ spawned: ["b"], stopped: ["wrk_a"] });

    scheduler.abandon("req_b");
    expect(await b).toMatchObject({ ok: false, code: "client_gone" });
  }, 20_000);
});
