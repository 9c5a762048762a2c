// Which silent workers a HiveSession stops as hung, and when, on a real Durable Object's storage:
// due once silent for the whole period, not before; forgotten once heard (or gone) again;
// remembered by a session that starts anew; never due when the period is 0.
// test/node/hung-worker.test.ts stops a real SIGSTOPped worker this way.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hiveSessionStub } from "../../queen/hive-session/stub.js";
import { WedgedWorkers } from "../../queen/hive-session/wedged-workers.js";

const STOP_AFTER_MS = 60_000;

function inSession<T>(name: string, run: (storage: DurableObjectStorage) => Promise<T>): Promise<T> {
  return runInDurableObject(hiveSessionStub(env, name), (_instance, state) => run(state.storage));
}

describe("wedged workers", () => {
  it("makes a worker due once it was silent for the whole period, and keeps it across a new session", async () => {
    await inSession("wedged-due", async (storage) => {
      const wedged = new WedgedWorkers(storage, () => STOP_AFTER_MS);
      await wedged.add([
        { workerId: "wrk_a", pid: 101, lastHeardMs: 1_000 },
        { workerId: "wrk_b", pid: 102, lastHeardMs: 5_000 },
        // Never heard with a heartbeat (a session woken without it): no PID to stop.
        { workerId: "wrk_c" },
      ]);
      expect(wedged.nextDueMs()).toBe(1_000 + STOP_AFTER_MS);
      expect(wedged.due(1_000 + STOP_AFTER_MS - 1)).toEqual([]);
      expect(wedged.due(1_000 + STOP_AFTER_MS)).toEqual([{ workerId: "wrk_a", pid: 101, silentMs: STOP_AFTER_MS }]);

      const anew = new WedgedWorkers(storage, () => STOP_AFTER_MS);
      await anew.load();
      expect(anew.due(10_000 + STOP_AFTER_MS).map((worker) => worker.workerId)).toEqual(["wrk_a", "wrk_b"]);
    });
  });

  it("forgets a worker heard again, in storage too", async () => {
    await inSession("wedged-heard", async (storage) => {
      const wedged = new WedgedWorkers(storage, () => STOP_AFTER_MS);
      await wedged.add([{ workerId: "wrk_slow", pid: 201, lastHeardMs: 0 }]);
      await wedged.drop(["wrk_slow", "wrk_never_kept"]);
      expect(wedged.due(STOP_AFTER_MS * 10)).toEqual([]);
      expect(wedged.nextDueMs()).toBeUndefined();
      const anew = new WedgedWorkers(storage, () => STOP_AFTER_MS);
      await anew.load();
      expect(anew.due(STOP_AFTER_MS * 10)).toEqual([]);
    });
  });

  it("stops nobody when WEDGED_WORKER_STOP_SECONDS is 0", async () => {
    await inSession("wedged-off", async (storage) => {
      const wedged = new WedgedWorkers(storage, () => 0);
      await wedged.add([{ workerId: "wrk_a", pid: 301, lastHeardMs: 0 }]);
      expect(wedged.due(Number.MAX_SAFE_INTEGER)).toEqual([]);
      expect(wedged.nextDueMs()).toBeUndefined();
    });
  });
});
