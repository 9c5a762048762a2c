import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pruneWorkerLogs, WORKER_LOG_RETENTION_MS } from "./prune-worker-logs.js";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-logs-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function log(name: string, ageMs: number): Promise<void> {
  const file = path.join(dir, name);
  await writeFile(file, "worker output\n");
  const when = new Date(Date.now() - ageMs);
  await utimes(file, when, when);
}

describe("pruneWorkerLogs", () => {
  it("removes week-old logs of workers that are gone, and keeps recent ones, running ones and other files", async () => {
    const old = WORKER_LOG_RETENTION_MS + 60_000;
    await log("wrk_gone1.log", old);
    await log("wrk_gone1.log.1", old); // the previous part of a capped log (worker-log-cap.ts)
    await log("wrk_running1.log", old);
    await log("wrk_running1.log.1", old);
    await log("wrk_recent1.log", 60_000);
    await log("notes.txt", old);
    expect(await pruneWorkerLogs(dir, new Set(["wrk_running1"]))).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(["notes.txt", "wrk_recent1.log", "wrk_running1.log", "wrk_running1.log.1"]);
  });

  it("does nothing when there is no log folder yet", async () => {
    expect(await pruneWorkerLogs(path.join(dir, "absent"), new Set())).toBe(0);
  });
});
