// proper-lockfile judges a lock folder stale by its mtime alone, so a holder that was SIGKILLed
// keeps everyone else waiting until its last refresh is `stale` ms old (10–30 s here). Where the
// holder wrote beside the lock who it is, a waiter that finds that process gone on this machine
// removes the folder at once and takes the lock on its next try.
import { hostname } from "node:os";
import { rmdir, stat } from "node:fs/promises";
import { processRuns } from "./process-runs.js";

/** Who holds a lock: a pid means something only on the machine that wrote it. */
export interface LockHolder {
  pid: number;
  host: string;
}

export function thisLockHolder(): LockHolder {
  return { pid: process.pid, host: hostname() };
}

/**
 * A lock folder refreshed more recently than this is left alone whoever is said to hold it: a live
 * process may have just taken it over from the dead one and not yet written that it holds it, ms.
 * It is proper-lockfile's own floor for `stale`.
 */
const FRESH_LOCK_MS = 2_000;

/**
 * Removes `lockFolder` (proper-lockfile's `<target>.lock`) when `holder` is a process of this
 * machine that no longer runs. True when the caller should try the lock again at once.
 */
export async function removeDeadHoldersLock(lockFolder: string, holder: LockHolder | undefined): Promise<boolean> {
  if (holder === undefined || holder.host !== hostname() || processRuns(holder.pid)) return false;
  const folder = await stat(lockFolder).catch(() => undefined);
  if (folder === undefined) return true; // released meanwhile
  if (Date.now() - folder.mtimeMs < FRESH_LOCK_MS) return false;
  // ENOENT: another waiter removed it first; ENOTEMPTY/other: not proper-lockfile's folder, leave it to `stale`.
  return rmdir(lockFolder).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code === "ENOENT",
  );
}
