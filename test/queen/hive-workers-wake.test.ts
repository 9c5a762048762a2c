// A worker that left a hive's live set (silent, or its process exited) stays issued to the hive,
// so that it may come back; a HiveSession woken from hibernation must not count it live again and
// drop it anew, which logged its death and told the Registry again on every wake.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HiveWorkers } from "../../queen/hive-session/hive-workers.js";
import { hiveSessionStub } from "../../queen/hive-session/stub.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";

const SETTINGS = () => ({ heartbeatIntervalMs: 1000, maxWorkersPerHive: 8 });

describe("a hive's workers across a wake from hibernation", () => {
  it("expects the live ones back, and neither the silent nor the exited, until they are heard again", async () => {
    await runInDurableObject(hiveSessionStub(env, "wake-workers-hive"), async (_instance, state) => {
      const before = new HiveWorkers(state.storage, SETTINGS);
      const now = Date.now();
      for (const workerId of ["wrk_live", "wrk_silent", "wrk_exited"]) {
        await before.issue(workerId, "m", `job_${workerId}`, now);
        expect((await before.heard(fakeHeartbeat({ workerId, model: "m", port: 40001 }), now)).accepted).toBe(true);
      }
      await before.heard(fakeHeartbeat({ workerId: "wrk_live", model: "m", port: 40001 }), now + 2_500);
      expect(await before.exited("wrk_exited")).toHaveLength(1);
      expect((await before.expire(now + 3_000)).map((worker) => worker.workerId)).toEqual(["wrk_silent"]);

      const woken = new HiveWorkers(state.storage, SETTINGS);
      await woken.load(now + 10_000, true);
      expect((await woken.expire(now + 20_000)).map((worker) => worker.workerId)).toEqual(["wrk_live"]);

      // One that comes back is expected again after the next wake.
      await woken.heard(fakeHeartbeat({ workerId: "wrk_silent", model: "m", port: 40001 }), now + 21_000);
      const again = new HiveWorkers(state.storage, SETTINGS);
      await again.load(now + 30_000, true);
      expect((await again.expire(now + 40_000)).map((worker) => worker.workerId)).toEqual(["wrk_silent"]);
    });
  });
});
