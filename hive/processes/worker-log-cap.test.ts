// A worker's log past its cap is kept as <id>.log.1 and started afresh, while the worker writes on
// through the descriptor it was started with: opened to append, as spawn-worker.ts opens it, its
// next line lands at the log's new start, not past a hole at its old offset.
import { open, readdir, readFile, rm, mkdtemp, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { capWorkerLogs } from "./worker-log-cap.js";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-log-cap-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("capWorkerLogs", () => {
  it("keeps a log past the cap as .log.1 and starts it afresh, the writer's next line at its start", async () => {
    const file = path.join(dir, "wrk_busy.log");
    const writer = await open(file, "a"); // the worker's descriptor
    try {
      await writer.write("a".repeat(2000) + "\n");
      await writeFile(path.join(dir, "wrk_quiet.log"), "short\n");
      expect(await capWorkerLogs(dir, 1000)).toEqual(["wrk_busy.log"]);
      expect((await stat(`${file}.1`)).size).toBe(2001);
      await writer.write("after the cut\n");
      expect(await readFile(file, "utf8")).toBe("after the cut\n");
      expect((await readdir(dir)).sort()).toEqual(["wrk_busy.log", "wrk_busy.log.1", "wrk_quiet.log"]);
      // Cut again: the previous part is the newer one.
      await writer.write("b".repeat(2000) + "\n");
      await capWorkerLogs(dir, 1000);
      expect((await readFile(`${file}.1`, "utf8")).startsWith("after the cut\nbbb")).toBe(true);
    } finally {
      await writer.close();
    }
  });

  it("does nothing when there is no log folder yet", async () => {
    expect(await capWorkerLogs(path.join(dir, "absent"))).toEqual([]);
  });
});
