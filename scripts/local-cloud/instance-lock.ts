// One `npm start` per state folder: two queens sharing one `.rbee/` would each think the hive
// and workers the other runs are theirs, and drop them. `npm start` takes this lock before it
// starts anything, and a second one is refused at once with the first one's pid and URL.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import { isZombieStat, procStatFields } from "../../shared/proc-stat.js";
import { StartRefused } from "./start-refused.js";

/** What the instance holding the lock wrote beside it, for the message a second one prints. */
export interface InstanceInfo {
  pid: number;
  url: string;
  startedAt: string;
}

export interface InstanceLock {
  /** Releases the lock and removes the instance file; safe to call twice. */
  release(): Promise<void>;
}

/**
 * A lock folder not refreshed for this long belongs to a process that died without releasing it
 * (SIGKILL), and the next start takes it over, ms. The holder refreshes it every half of this.
 */
const STALE_MS = 10_000;
/** How often a start that found a dead holder's lock looks again until it is stale, ms. */
const RETRY_MS = 500;

const LOCK_FOLDER = "instance.lock";
const INFO_FILE = "instance.json";

/**
 * Takes the state folder's lock for this process, which will serve `url`. Throws StartRefused
 * when another live instance holds it. A lock left by an instance that is gone (its pid no
 * longer runs) is waited out until stale, saying so through `log`.
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
    if ((holder !== undefined && isRunning(holder.pid)) || Date.now() > deadline) throw instanceRunning(stateDir, holder);
    if (!saidWaiting && holder !== undefined) {
      log(`npm start: the last npm start on ${stateDir} (pid ${holder.pid}) ended without releasing its lock; taking it over once it is stale…`);
    }
    saidWaiting = true;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/** The instance that holds (or last held) the state folder's lock, if it said. */
export async function readInstanceInfo(stateDir: string): Promise<InstanceInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(join(stateDir, INFO_FILE), "utf8")) as Partial<InstanceInfo>;
    return typeof info.pid === "number" && typeof info.url === "string" && typeof info.startedAt === "string"
      ? { pid: info.pid, url: info.url, startedAt: info.startedAt }
      : undefined;
  } catch {
    return undefined; // none yet (the holder is a moment from writing it), or unreadable
  }
}

async function holdLock(stateDir: string, url: string, releaseLock: () => Promise<void>): Promise<InstanceLock> {
  const infoPath = join(stateDir, INFO_FILE);
  const info: InstanceInfo = { pid: process.pid, url, startedAt: new Date().toISOString() };
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

/**
 * Whether a process with this pid runs (EPERM: it does, as another user). A zombie does not: a
 * killed instance lingers as one until init reaps it.
 */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (process.platform !== "linux") return true;
  const fields = procStatFields(pid);
  return fields !== undefined && !isZombieStat(fields);
}
