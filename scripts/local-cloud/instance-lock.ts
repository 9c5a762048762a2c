// One `npm start` per state folder: two queens sharing one `.rbee/` would each think the hive
// and workers the other runs are theirs, and drop them. `npm start` takes this lock before it
// starts anything, and a second one is refused at once with the first one's pid and URL.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import { removeDeadHoldersLock, thisLockHolder } from "../../shared/dead-holder-lock.js";
import { processRuns } from "../../shared/process-runs.js";
import { StartRefused } from "./start-refused.js";

/** What the instance holding the lock wrote beside it, for the message a second one prints. */
export interface InstanceInfo {
  pid: number;
  /** The machine the pid runs on (absent in files of older versions: then this one). */
  host: string;
  url: string;
  startedAt: string;
}

export interface InstanceLock {
  /** Releases the lock and removes the instance file; safe to call twice. */
  release(): Promise<void>;
}

/**
 * A lock folder not refreshed for this long belongs to a process that died without releasing it,
 * and the next start takes it over, ms: the fallback where the holder did not say who it was
 * (its instance file unwritten or gone). The holder refreshes it every half of this.
 */
const STALE_MS = 10_000;
/** How often a start that found a lock without a live holder looks again, ms. */
const RETRY_MS = 500;

const LOCK_FOLDER = "instance.lock";
const INFO_FILE = "instance.json";

/**
 * Takes the state folder's lock for this process, which will serve `url`. Throws StartRefused
 * when another live instance holds it. A lock left by an instance that is gone (SIGKILLed: its
 * pid no longer runs) is taken over within a couple of seconds (shared/dead-holder-lock.ts),
 * saying so through `log`.
 */
export async function lockStateFolder(stateDir: string, url: string, log: (line: string) => void): Promise<InstanceLock> {
  await mkdir(stateDir, { recursive: true });
  const deadline = Date.now() + STALE_MS + 2 * RETRY_MS;
  let saidWaiting = false;
  for (;;) {
    try {
      const release = await lockfile.lock(stateDir, {
        lockfilePath: join(stateDir, LOCK_FOLDER),
        stale: STALE_MS,
        onCompromised: (error) => log(`npm start: lost the lock on ${stateDir} (${error.message}); another npm start may now use this state folder`),
      });
      return await holdLock(stateDir, url, release);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    }
    const holder = await readInstanceInfo(stateDir);
    if ((holder !== undefined && processRuns(holder.pid)) || Date.now() > deadline) throw instanceRunning(stateDir, holder);
    if (!saidWaiting && holder !== undefined) {
      log(`npm start: the last npm start on ${stateDir} (pid ${holder.pid}) ended without releasing its lock; taking it over…`);
    }
    saidWaiting = true;
    if (await removeDeadHoldersLock(join(stateDir, LOCK_FOLDER), holder)) continue;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/** The instance that holds (or last held) the state folder's lock, if it said. */
export async function readInstanceInfo(stateDir: string): Promise<InstanceInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(join(stateDir, INFO_FILE), "utf8")) as Partial<InstanceInfo>;
    const host = info.host ?? thisLockHolder().host;
    return typeof info.pid === "number" && typeof host === "string" && typeof info.url === "string" && typeof info.startedAt === "string"
      ? { pid: info.pid, host, url: info.url, startedAt: info.startedAt }
      : undefined;
  } catch {
    return undefined; // none yet (the holder is a moment from writing it), or unreadable
  }
}

async function holdLock(stateDir: string, url: string, releaseLock: () => Promise<void>): Promise<InstanceLock> {
  const infoPath = join(stateDir, INFO_FILE);
  const info: InstanceInfo = { ...thisLockHolder(), url, startedAt: new Date().toISOString() };
  // Written whole and renamed, so a second start never reads half of it.
  await writeFile(`${infoPath}.${process.pid}.tmp`, `${JSON.stringify(info, null, 2)}\n`);
  await rename(`${infoPath}.${process.pid}.tmp`, infoPath);
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= (async () => {
        await rm(infoPath, { force: true });
        await releaseLock().catch(() => {}); // already compromised and taken over: nothing to undo
      })();
      return released;
    },
  };
}

function instanceRunning(stateDir: string, holder: InstanceInfo | undefined): StartRefused {
  const who = holder === undefined ? "another npm start" : `another npm start (pid ${holder.pid}, serving ${holder.url}, since ${holder.startedAt})`;
  const stop = holder === undefined ? "Stop it first" : `Stop it first (Ctrl-C in its terminal, or kill ${holder.pid})`;
  return new StartRefused(
    "instance_running",
    `${who} is already running on the state folder ${stateDir}. ${stop}, or run a second one beside it with its own state folder and port: RBEE_STATE_DIR=<another folder> RBEE_PORT=<another port> npm start`,
  );
}
