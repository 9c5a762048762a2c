// What a HiveSession passes on to the Registry of its workers' heartbeats (hive-session/
// worker-changes.ts): a change at once, changed figures with the next refresh, and a worker that
// changes nothing at least every LAST_SEEN_REFRESH_MS, so that GET /v1/workers' last_seen_at
// says when it was last heard, not when it last changed.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HiveWorkers } from "../../queen/hive-session/hive-workers.js";
import { hiveSessionStub } from "../../queen/hive-session/stub.js";
import { FIGURES_REFRESH_MS, LAST_SEEN_REFRESH_MS } from "../../queen/hive-session/worker-changes.js";
import { fakeHeartbeat } from "../support/fake-heartbeat.js";

const SETTINGS = () => ({ heartbeatIntervalMs: 1000, maxWorkersPerHive: 8 });

describe("the heartbeats a HiveSession reports", () => {
  it("reports a change at once, new figures with the next refresh, and an unchanged worker once a refresh of last seen is due", async () => {
    await runInDurableObject(hiveSessionStub(env, "worker-reports-hive"), async (_instance, state) => {
      const workers = new HiveWorkers(state.storage, SETTINGS);
      const start = Date.now();
      await workers.issue("wrk_reported", "m", "job_reported", start);
      const beat = (atMs: number, figures: Record<string, unknown> = {}) => workers.heard(fakeHeartbeat({ workerId: "wrk_reported", model: "m", port: 40001, ...figures }), atMs);
      const reported = async (atMs: number, figures: Record<string, unknown> = {}) => {
        const outcome = await beat(atMs, figures);
        if (!outcome.accepted) throw new Error(outcome.refusal.message);
        return outcome.upserts.map((upsert) => upsert.lastSeenAtMs);
      };
      expect(await reported(start)).toEqual([start]);
      // Nothing new: nothing to say, until last seen is due.
      expect(await reported(start + 1_000)).toEqual([]);
      expect(await reported(start + LAST_SEEN_REFRESH_MS - 1)).toEqual([]);
      expect(await reported(start + LAST_SEEN_REFRESH_MS)).toEqual([start + LAST_SEEN_REFRESH_MS]);
      // New figures wait for the refresh; a change goes at once.
      const later = start + LAST_SEEN_REFRESH_MS;
      expect(await reported(later + 1_000, { tokensPerSecond: 42 })).toEqual([]);
      expect(await reported(later + FIGURES_REFRESH_MS, { tokensPerSecond: 42 })).toEqual([later + FIGURES_REFRESH_MS]);
      expect(await reported(later + FIGURES_REFRESH_MS + 1, { tokensPerSecond: 42, state: "draining" })).toEqual([later + FIGURES_REFRESH_MS + 1]);
    });
  });
});
