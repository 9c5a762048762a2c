// The idle records an evicted Registry reads back: stored ahead of the request's end, so that the
// requests of the next RECORD_AHEAD_MS cost no write, and never earlier than the last end.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { IdleRecords, RECORD_AHEAD_MS } from "../../queen/registry/idle-records.js";
import { registryStub } from "../../queen/registry/stub.js";

describe("idle records", () => {
  it("writes a worker's request end ahead, again only past that time or for another keep-alive, and deletes it when it goes", async () => {
    await runInDurableObject(registryStub(env), async (_instance, state) => {
      const records = new IdleRecords(state.storage);
      const stored = () => state.storage.get("idle:wrk_records1");
      records.record("wrk_records1", { lastActiveAtMs: 1_000 });
      expect(await stored()).toEqual({ lastActiveAtMs: 1_000 + RECORD_AHEAD_MS });
      records.record("wrk_records1", { lastActiveAtMs: 1_000 + RECORD_AHEAD_MS });
      expect(await stored()).toEqual({ lastActiveAtMs: 1_000 + RECORD_AHEAD_MS });
      records.record("wrk_records1", { lastActiveAtMs: 1_500, keepAliveMs: 60_000 });
      expect(await stored()).toEqual({ lastActiveAtMs: 1_500 + RECORD_AHEAD_MS, keepAliveMs: 60_000 });
      records.record("wrk_records1", { lastActiveAtMs: 2_000 + RECORD_AHEAD_MS, keepAliveMs: 60_000 });
      expect(await stored()).toEqual({ lastActiveAtMs: 2_000 + 2 * RECORD_AHEAD_MS, keepAliveMs: 60_000 });

      const reread = new IdleRecords(state.storage);
      await reread.load();
      expect(reread.take("wrk_records1")).toEqual({ lastActiveAtMs: 2_000 + 2 * RECORD_AHEAD_MS, keepAliveMs: 60_000 });
      expect(reread.take("wrk_records1")).toBeUndefined();

      records.forget("wrk_records1");
      expect(await stored()).toBeUndefined();
    });
  });

  it("keeps when a worker became resident through the writes of its later request ends", async () => {
    await runInDurableObject(registryStub(env), async (_instance, state) => {
      const records = new IdleRecords(state.storage);
      records.record("wrk_records2", { lastActiveAtMs: 1_000, residentSinceMs: 1_000 });
      records.record("wrk_records2", { lastActiveAtMs: 9_000 });
      expect(await state.storage.get("idle:wrk_records2")).toEqual({ lastActiveAtMs: 9_000 + RECORD_AHEAD_MS, residentSinceMs: 1_000 });
      records.forget("wrk_records2");
    });
  });
});
