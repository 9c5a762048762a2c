// An artifact catalog on disk: one folder per artifact under a root, each with a `metadata.json`
// that is written atomically (temp file, then rename) and read back through a zod schema. A
// lock per entry (a lock folder, via proper-lockfile) keeps two jobs or two processes from
// writing one entry at once; a crashed holder's lock is taken over, at once where the holder's
// pid, written beside the lock, no longer runs on this machine, else once it goes stale.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import lockfile from "proper-lockfile";
import type { z } from "zod";
import type { Artifact } from "./artifact.js";
import type { ArtifactCatalog } from "./artifact-catalog.js";
import { checkArtifactId, folderNameFor, resolveInside } from "./artifact-id.js";
import { abortableSleep } from "../../shared/abortable-sleep.js";
import { removeDeadHoldersLock, thisLockHolder, type LockHolder } from "../../shared/dead-holder-lock.js";
import { RbeeError } from "../../shared/errors.js";
import { processRuns } from "../../shared/process-runs.js";

export const METADATA_FILE = "metadata.json";
/** Folders starting with a dot are the catalog's own (locks, trash), never entries. */
const LOCKS_FOLDER = ".locks";
const TRASH_FOLDER = ".trash";
/** How often a waiting job tries the lock again, ms. */
const LOCK_RETRY_MS = 250;

export interface FilesystemCatalogOptions {
  /**
   * A lock not refreshed for this long belongs to a dead process and may be taken, ms. Default
   * 30 000; proper-lockfile never goes below 2000. The holder refreshes it every half of this.
   */
  lockStaleMs?: number;
}

const DEFAULTS = { lockStaleMs: 30_000 } satisfies Required<FilesystemCatalogOptions>;

export class FilesystemCatalog<T extends Artifact> implements ArtifactCatalog<T> {
  /**
   * The entries whose lock this process holds now (withLock), by catalog folder and id: shared by
   * every instance, as two catalogs of one folder in one process (a test's, a bench's) see the
   * same entries.
   */
  private static readonly lockedHere = new Set<string>();

  constructor(
    /** The catalog folder, e.g. `~/.cache/rbee/models`. */
    readonly root: string,
    private readonly schema: z.ZodType<T>,
    /** What it holds, for messages: `model`, `worker`. */
    private readonly kind: string,
    private readonly log: (line: string) => void = () => {},
    private readonly options: FilesystemCatalogOptions = {},
  ) {}

  private lockKey(id: string): string {
    return `${path.resolve(this.root)}\0${id}`;
  }

  folderOf(id: string): string {
    return resolveInside(this.root, folderNameFor(checkArtifactId(id, this.kind)));
  }

  async add(entry: T): Promise<void> {
    const folder = this.folderOf(entry.id);
    const json = `${JSON.stringify(this.schema.parse(entry), null, 2)}\n`; // refuse a bad entry before touching the disk
    await mkdir(folder, { recursive: true }).catch((error: unknown) => this.throwUnwritable(error));
    const target = path.join(folder, METADATA_FILE);
    // A random part, not just pid and time: two adds of one id in the same millisecond must not share a temp file.
    const temp = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(temp, json);
      await rename(temp, target); // atomic on one filesystem: readers see the old file or the new one
    } catch (error) {
      await rm(temp, { force: true });
      this.throwUnwritable(error);
    }
  }

  /** A write refused by the filesystem (read-only, no permission) as an error naming the folder and what to do; others as they are. */
  private throwUnwritable(error: unknown): never {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EROFS" || code === "EACCES" || code === "EPERM") {
      const why = code === "EROFS" ? "its file system is read-only" : "this process may not write there";
      throw new RbeeError(500, "catalog_not_writable", `the ${this.kind} catalog ${this.root} cannot be written (${code}: ${why}); make it writable, or start the hive with another cache folder (RBEE_CACHE_DIR)`, { cause: error });
    }
    throw error;
  }

  async get(id: string): Promise<T | undefined> {
    return this.readEntry(this.folderOf(id), id);
  }

  async list(): Promise<T[]> {
    const names = await readdir(this.root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [];
      throw error;
    });
    const entries: T[] = [];
    for (const name of names.sort()) {
      if (name.startsWith(".")) continue;
      const entry = await this.readEntry(path.join(this.root, name), undefined);
      if (entry) entries.push(entry);
    }
    return entries.sort((a, b) => a.id.localeCompare(b.id));
  }

  async contains(id: string): Promise<boolean> {
    return (await this.get(id))?.status.state === "available";
  }

  async remove(id: string): Promise<boolean> {
    const folder = this.folderOf(id);
    if ((await this.readEntry(folder, id)) === undefined && !(await exists(folder))) return false;
    // Rename first, so the entry leaves the listing at once even if deleting many GB takes a while.
    const trash = path.join(this.root, TRASH_FOLDER, `${path.basename(folder)}.${process.pid}.${randomBytes(6).toString("hex")}`);
    await mkdir(path.dirname(trash), { recursive: true });
    try {
      await rename(folder, trash);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false; // a concurrent remove got there first
      throw error;
    }
    await rm(trash, { recursive: true, force: true });
    return true;
  }

  async withLock<R>(id: string, signal: AbortSignal, onWait: () => void, fn: (held: AbortSignal) => Promise<R>): Promise<R> {
    const lockTarget = path.join(this.root, LOCKS_FOLDER, path.basename(this.folderOf(id)));
    await mkdir(path.dirname(lockTarget), { recursive: true }).catch((error: unknown) => this.throwUnwritable(error));
    let waited = false;
    let release: (() => Promise<void>) | undefined;
    const held = new AbortController();
    while (release === undefined) {
      signal.throwIfAborted();
      try {
        release = await lockfile.lock(lockTarget, {
          realpath: false, // the target is just a name; the lock is the `.lock` folder beside it
          stale: this.options.lockStaleMs ?? DEFAULTS.lockStaleMs,
          onCompromised: (error) => {
            const lost = `${this.kind} '${id}': this process lost its lock on the catalog entry (${error.message}), so another may be writing it now`;
            this.log(`${lost}; stopping what it did with the entry`);
            held.abort(new RbeeError(409, "catalog_lock_lost", `${lost}; stopped. Ask again: the entry's next use waits for the other process`));
          },
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ELOCKED") this.throwUnwritable(error);
        if (await removeDeadHoldersLock(`${lockTarget}.lock`, await readHolder(lockTarget))) continue;
        if (!waited) onWait();
        waited = true;
        await abortableSleep(LOCK_RETRY_MS, signal);
      }
    }
    // Outside the retry loop: an error from fn, whatever its code, is fn's and never runs it again.
    FilesystemCatalog.lockedHere.add(this.lockKey(id));
    try {
      // Best effort: without it a waiter still takes the lock over once it is stale.
      await writeFile(holderFile(lockTarget), JSON.stringify(thisLockHolder())).catch(() => {});
      return await fn(held.signal);
    } finally {
      FilesystemCatalog.lockedHere.delete(this.lockKey(id));
      // Not when the lock was lost: the file is then its new holder's.
      if ((await readHolder(lockTarget))?.pid === process.pid && !held.signal.aborted) await rm(holderFile(lockTarget), { force: true }).catch(() => {});
      await release().catch(() => {}); // already released or compromised: nothing to undo
    }
  }

  /** The entry in `folder`, or undefined if there is none or it is unreadable (logged). */
  private async readEntry(folder: string, expectedId: string | undefined): Promise<T | undefined> {
    let raw: string;
    try {
      raw = await readFile(path.join(folder, METADATA_FILE), "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      // Unreadable (a folder in its place, no permission): left out like corrupt metadata, not fatal to list().
      this.log(`${this.kind} catalog: ${folder}/${METADATA_FILE} cannot be read (${code ?? (error as Error).message}); ignoring that entry`);
      return undefined;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.log(`${this.kind} catalog: ${folder}/${METADATA_FILE} is not JSON; ignoring that entry`);
      return undefined;
    }
    const parsed = this.schema.safeParse(json);
    if (!parsed.success) {
      this.log(`${this.kind} catalog: ${folder}/${METADATA_FILE} is not a valid entry (${parsed.error.issues[0]?.message}); ignoring it`);
      return undefined;
    }
    // Another id whose folder name collides (a slug+hash that equals a literal id): not ours.
    if (expectedId !== undefined && parsed.data.id !== expectedId) return undefined;
    const { status } = parsed.data;
    // A fetch whose process is gone (a crash, a kill) never writes its end: say so instead of
    // "downloading" forever. Its partial files stay, and asking again resumes from them.
    if (status.state === "downloading" && status.pid !== process.pid && !processRuns(status.pid)) {
      return { ...parsed.data, status: { state: "failed", reason: `interrupted: the process fetching it (pid ${status.pid}) is gone; ask for it again to resume` } };
    }
    // One of this process fetches under the entry's lock; without it, the fetch ended and could
    // not write how (on a full disk even that small write fails; a fetch that lost its lock leaves
    // the entry to the process that took it).
    if (status.state === "downloading" && status.pid === process.pid && !FilesystemCatalog.lockedHere.has(this.lockKey(parsed.data.id))) {
      return { ...parsed.data, status: { state: "failed", reason: "its fetch in this process ended without recording how; ask for it again to resume" } };
    }
    return parsed.data;
  }

  /** Deletes what removals left in the trash (a hive that died while deleting many GB). */
  async emptyTrash(): Promise<void> {
    await rm(path.join(this.root, TRASH_FOLDER), { recursive: true, force: true });
  }
}

/** Beside the lock folder, who holds it: what a waiter reads to learn that the holder is gone. */
function holderFile(lockTarget: string): string {
  return `${lockTarget}.holder.json`;
}

async function readHolder(lockTarget: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(holderFile(lockTarget), "utf8")) as Partial<LockHolder>;
    return typeof holder.pid === "number" && typeof holder.host === "string" ? { pid: holder.pid, host: holder.host } : undefined;
  } catch {
    return undefined; // none (a holder a moment from writing it, or an older hive's lock), or unreadable
  }
}

async function exists(folder: string): Promise<boolean> {
  return readdir(folder).then(
    () => true,
    () => false,
  );
}

