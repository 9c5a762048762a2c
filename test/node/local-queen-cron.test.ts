// A local queen runs its Cron Trigger itself (scripts/local-cloud/queen-cron.ts): Miniflare runs
// none, and a local cloud left running would keep every old job, worker history and usage row. The
// queen's own scheduled handler runs against its real D1 a moment after it starts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalQueen, startLocalQueen } from "../../scripts/local-cloud/queen.js";
import { waitUntil } from "../../shared/wait-until.js";

describe("a local queen's daily run", () => {
  let queen: LocalQueen | undefined;
  let dir = "";

  afterEach(async () => {
    await queen?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the queen's retention (its scheduled handler) after it starts, as the Cron Trigger does on Cloudflare", async () => {
    dir = await mkdtemp(join(tmpdir(), "rbee-cron-"));
    const lines: string[] = [];
    queen = await startLocalQueen({ persistDir: dir, adminKey: "rbee_sk_cron_test_key", port: 0, dailyRunAfterMs: 100, logLevel: "log", logLine: (line) => lines.push(line) });
    await waitUntil(() => lines.some((line) => line.startsWith("retention: deleted")), 20_000, "the retention run's line");
    expect(lines.find((line) => line.startsWith("retention: deleted"))).toMatch(/^retention: deleted \{.*\}; unfinished jobs \{.*\}$/);
  }, 60_000);
});
