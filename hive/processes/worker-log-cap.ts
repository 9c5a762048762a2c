// A worker writes a line per request to its log (`<logDir>/<worker id>.log`), and one that serves
// for weeks would fill the disk. A log past WORKER_LOG_CAP_BYTES is kept as `<id>.log.1` (the one
// before it goes) and started afresh, as logrotate's copytruncate does: the worker writes on
// through its own descriptor, opened to append (spawn-worker.ts), so its next line lands at the
// new end. The few lines written between the copy and the cut are lost; that is the price of not
// stopping the worker.
import { copyFile, readdir, stat, truncate } from "node:fs/promises";
import path from "node:path";

/** The most a worker's log grows before it is cut; its previous part is kept beside it. */
export const WORKER_LOG_CAP_BYTES = 64 * 1024 * 1024;
/** The previous part of a capped log. */
export const PREVIOUS_PART_SUFFIX = ".1";

/** Cuts each log in `logDir` past `capBytes` to nothing, keeping it as `<name>.1`; returns the names cut. */
export async function capWorkerLogs(logDir: string, capBytes = WORKER_LOG_CAP_BYTES): Promise<string[]> {
  const names = await readdir(logDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const cut: string[] = [];
  for (const name of names) {
    if (!name.endsWith(".log")) continue;
    const file = path.join(logDir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || info.size <= capBytes) continue;
    await copyFile(file, `${file}${PREVIOUS_PART_SUFFIX}`);
    await truncate(file, 0);
    cut.push(name);
  }
  return cut;
}
