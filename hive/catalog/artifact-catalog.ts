// The operations every artifact catalog offers, whatever it stores and wherever it keeps it.
// `FilesystemCatalog` is the one implementation; the model and worker catalogs are two uses.
import type { Artifact } from "./artifact.js";

export interface ArtifactCatalog<T extends Artifact> {
  /** Adds the entry or replaces the one with the same id. */
  add(entry: T): Promise<void>;
  get(id: string): Promise<T | undefined>;
  /** Every entry, sorted by id; entries whose metadata is unreadable are left out (and logged). */
  list(): Promise<T[]>;
  /** Removes the entry and its files; false when there was none. */
  remove(id: string): Promise<boolean>;
  /** Whether an entry exists and is available for use. */
  contains(id: string): Promise<boolean>;
  /** The folder that holds (or will hold) the entry's files. */
  folderOf(id: string): string;
  /** Deletes what earlier removals left half-deleted (a process that died while deleting). */
  emptyTrash(): Promise<void>;
  /**
   * Runs `fn` holding the entry's lock, which other jobs and other processes respect. `held`
   * aborts should the lock be lost while `fn` runs (the process was paused past the lock's stale
   * time and another took it over): `fn` then stops writing the entry, which is another's now.
   */
  withLock<R>(id: string, signal: AbortSignal, onWait: () => void, fn: (held: AbortSignal) => Promise<R>): Promise<R>;
}
