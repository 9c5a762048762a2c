// Worker log files (`<cache>/logs/<worker id>.log`) outlive their workers so a failure can be
// read afterwards; without pruning they would pile up forever. At start the hive removes the
// logs that are older than a week and belong to no running worker.
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";

/** How long a dead worker's log is kept, ms. */
export const WORKER_LOG_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Removes stale logs in `logDir`; returns how many. `runningWorkerIds` are never touched. */
export async function pruneWorkerLogs(logDir: string, runningWorkerIds: ReadonlySet<string>, nowMs = Date.now()): Promise<number> {
  const names = await readdir(logDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  let removed = 0;
  for (const name of names) {
    // A log, or the previous part of a capped one (worker-log-cap.ts).
    const workerId = /^(.+)\.log(?:\.1)?$/.exec(name)?.[1];
    if (workerId === undefined || runningWorkerIds.has(workerId)) continue;
    const file = path.join(logDir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || nowMs - info.mtimeMs < WORKER_LOG_RETENTION_MS) continue;
    await rm(file, { force: true });
    removed++;
  }
  return removed;
}
