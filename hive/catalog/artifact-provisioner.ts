// Gets an artifact into its catalog: picks the vendor that understands the id, fetches under the
// entry's lock, and records the outcome (available, or failed with the reason). Two jobs asking
// for the same id at once share one fetch, which is only cancelled once every asker cancelled.
// A cancelled fetch leaves nothing listed; a failed or interrupted one (e.g. the hive stopping)
// keeps its partial files, so the next attempt resumes. A first fetch that failed with nothing worth
// resuming leaves nothing either (its job's error says why): no empty folder, no dead entry.
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { RbeeError } from "../../shared/errors.js";
import { withoutQuery } from "../../shared/redact-url.js";
import type { Artifact } from "./artifact.js";
import type { ArtifactCatalog } from "./artifact-catalog.js";
import { checkArtifactId } from "./artifact-id.js";
import type { FetchRequest, VendorContext, VendorSource } from "./vendor-source.js";


/** How long a cancelled asker waits for the fetch it stopped to wind down before it is answered anyway, ms. */
const WIND_DOWN_WAIT_MS = 10_000;
/** What one asker hears while the artifact is provisioned. */
export type ProvisionListener = Omit<VendorContext, "signal">;

/**
 * The abort reason for "stop now, resume later" (the hive's HiveStopping is one), as opposed to
 * a cancel ("I no longer want this"): an interrupted fetch keeps its partial files.
 */
export class FetchInterrupted extends Error {
  // Typed as string so that a kind of interruption can name itself.
  override readonly name: string = "FetchInterrupted";
}

export interface ProvisionOptions<T> {
  /**
   * Asked, under the entry's lock, about an available entry: a reason to fetch it again (a local
   * build of sources that changed since, one from another vendor), or undefined to keep it.
   */
  replaceIf?: (entry: T) => Promise<string | undefined>;
}

interface SharedFetch<T> {
  promise: Promise<T>;
  controller: AbortController;
  listeners: Set<ProvisionListener>;
}

export class ArtifactProvisioner<T extends Artifact> {
  private readonly inFlight = new Map<string, SharedFetch<T>>();
  /** Entry id → the jobs using it now (use()). */
  private readonly users = new Map<string, Set<string>>();

  constructor(
    readonly catalog: ArtifactCatalog<T>,
    private readonly vendors: readonly VendorSource<T>[],
    /** What it provisions, for messages: `model`, `worker`. */
    private readonly kind: string,
    /** The id forms the vendors accept, for the message when none does. */
    private readonly acceptedForms: string,
    /**
     * Asked about every available entry before it is handed out: a reason it is no longer what was
     * fetched (its file gone or cut short on disk), which fetches it again, or undefined.
     */
    private readonly damaged: (entry: T, folder: string) => Promise<string | undefined> = async () => undefined,
  ) {}

  /** The vendor for a source, or a 400 that lists the forms that are accepted. */
  vendorFor(source: string): VendorSource<T> {
    checkArtifactId(source, this.kind);
    const vendor = this.vendors.find((candidate) => candidate.supports(source));
    if (!vendor) throw new RbeeError(400, "unsupported_artifact_id", `${this.kind} source '${source}' is not one rbee can fetch; use ${this.acceptedForms}`);
    return vendor;
  }

  /**
   * The available entry `id`, fetched from `source` first when it is missing or failed. For
   * models the id is the source (`hf:org/repo:file.gguf`); a worker's id names what it is
   * (`cpu-llm-worker-rbee-v0.1.0-linux`) and its source where it comes from (`gh:org/repo@v0.1.0`).
   */
  async provision(request: FetchRequest, signal: AbortSignal, listener: ProvisionListener, options: ProvisionOptions<T> = {}): Promise<T> {
    const { id, source } = request;
    checkArtifactId(id, this.kind);
    const vendor = this.vendorFor(source);
    const existing = await this.catalog.get(id);
    if (existing?.status.state === "available" && (await this.reasonToFetchAgain(existing, options)) === undefined) {
      listener.narrate("cached", `${this.kind} '${id}' is already in the catalog`);
      return existing;
    }
    // Before starting or joining a fetch: one started for an asker who is already gone would run for nobody.
    signal.throwIfAborted();
    let shared = this.inFlight.get(id);
    // A fetch whose askers all cancelled is only winding down; a new asker needs a fetch of its own.
    if (shared && !shared.controller.signal.aborted) {
      listener.narrate("join", `${this.kind} '${id}' is already being fetched for another job; sharing that download`);
    } else {
      const controller = new AbortController();
      const listeners = new Set<ProvisionListener>();
      const fanOut: VendorContext = {
        signal: controller.signal,
        narrate: (action, message) => listeners.forEach((each) => each.narrate(action, message)),
        progress: (bytes, total, rate) => listeners.forEach((each) => each.progress(bytes, total, rate)),
      };
      const started: SharedFetch<T> = { promise: this.fetchLocked(request, vendor, fanOut, options), controller, listeners };
      // Only its own entry: a newer fetch for the id may have taken the slot while this one wound down.
      started.promise = started.promise.finally(() => {
        if (this.inFlight.get(id) === started) this.inFlight.delete(id);
      });
      shared = started;
      this.inFlight.set(id, shared);
    }
    return this.follow(shared, signal, listener);
  }

  /** Waits for a shared fetch on behalf of one asker; its cancel only counts for itself. */
  private async follow(shared: SharedFetch<T>, signal: AbortSignal, callerListener: ProvisionListener): Promise<T> {
    signal.throwIfAborted();
    // One listener object per asker, so two askers passing the same object still count as two.
    const listener: ProvisionListener = {
      narrate: (action, message) => callerListener.narrate(action, message),
      progress: (bytes, total, rate) => callerListener.progress(bytes, total, rate),
    };
    shared.listeners.add(listener);
    let onAbort: (() => void) | undefined;
    const cancelled = new Promise<never>((_, reject) => {
      onAbort = () => {
        shared.listeners.delete(listener);
        if (shared.listeners.size > 0) return reject(signal.reason);
        // The last asker stops the fetch, and is answered once it has wound down (at most
        // WIND_DOWN_WAIT_MS, should a vendor be slow to stop): a job reported cancelled then has
        // left nothing behind, its catalog entry removed first.
        shared.controller.abort(signal.reason);
        const answer = () => {
          clearTimeout(timer);
          reject(signal.reason);
        };
        const timer = setTimeout(answer, WIND_DOWN_WAIT_MS);
        void shared.promise.then(answer, answer);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([shared.promise, cancelled]);
    } finally {
      if (onAbort) signal.removeEventListener("abort", onAbort);
      shared.listeners.delete(listener);
    }
  }

  private async reasonToFetchAgain(entry: T, options: ProvisionOptions<T>): Promise<string | undefined> {
    return (await this.damaged(entry, this.catalog.folderOf(entry.id))) ?? (await options.replaceIf?.(entry));
  }

  /**
   * Marks entry `id` as used by job `jobId` until the returned function is called: a spawn holds its
   * model from before it is fetched until its worker runs, when the worker's own process holds it.
   * A delete checks usersOf() and refuses, rather than remove the file a worker is about to load.
   */
  use(id: string, jobId: string): () => void {
    const users = this.users.get(id) ?? new Set<string>();
    users.add(jobId);
    this.users.set(id, users);
    return () => {
      users.delete(jobId);
      if (users.size === 0 && this.users.get(id) === users) this.users.delete(id);
    };
  }

  /** The jobs using entry `id` now. */
  usersOf(id: string): string[] {
    return [...(this.users.get(id) ?? [])];
  }

  /** Removes an entry under its lock, so it never vanishes under a fetch in progress; false when absent. */
  async remove(id: string, signal: AbortSignal, onWait: () => void): Promise<boolean> {
    return this.catalog.withLock(id, signal, onWait, () => this.catalog.remove(id));
  }

  private async fetchLocked(request: FetchRequest, vendor: VendorSource<T>, context: VendorContext, options: ProvisionOptions<T>): Promise<T> {
    const { id, source } = request;
    const onWait = () => context.narrate("wait", `another process holds ${this.kind} '${id}'; waiting for it`);
    return this.catalog.withLock(id, context.signal, onWait, async (held) => {
      // A lock lost midway stops the vendor as a cancel would, and leaves the entry to its new holder.
      const vendorContext: VendorContext = { ...context, signal: AbortSignal.any([context.signal, held]) };
      // It may have become available while this job waited for the lock.
      const existing = await this.catalog.get(id);
      if (existing?.status.state === "available") {
        const why = await this.reasonToFetchAgain(existing, options);
        if (why === undefined) return existing;
        context.narrate("replace", `fetching ${this.kind} '${id}' again: ${why}`);
      }
      const folder = this.catalog.folderOf(id);
      await this.catalog.add({ ...(existing ?? placeholder(id)), status: { state: "downloading", pid: process.pid } } as T);
      context.narrate("fetch", `fetching ${this.kind} '${id}' from ${vendor.name} (${withoutQuery(source)}) into ${folder}`);
      try {
        const entry = await vendor.fetch(request, folder, vendorContext);
        held.throwIfAborted();
        await this.catalog.add({ ...entry, status: { state: "available" } });
        return entry;
      } catch (error) {
        if (held.aborted) throw held.reason;
        const interrupted = context.signal.reason instanceof FetchInterrupted;
        if (context.signal.aborted && !interrupted) {
          await this.catalog.remove(id); // cancelled on purpose: nothing stays behind, nothing listed
        } else if (existing === undefined && !interrupted && !(await holdsPartialFiles(folder))) {
          await this.catalog.remove(id);
        } else {
          const cause = interrupted ? (context.signal.reason as Error) : error;
          const reason = `${interrupted ? "interrupted: " : ""}${cause instanceof Error ? cause.message : String(cause)}${interrupted ? "; ask for it again to resume" : ""}`;
          // On a full disk even this small write can fail; the fetch's own error is the one to report.
          await this.catalog.add({ ...(existing ?? placeholder(id)), details: existing?.details ?? null, status: { state: "failed", reason } } as T).catch(() => {});
        }
        throw error;
      }
    });
  }
}

/** The entry written while a first fetch runs: only the common fields are known yet. */
function placeholder(id: string): Artifact {
  return { id, status: { state: "downloading", pid: process.pid }, sizeBytes: null, addedAt: new Date().toISOString(), details: null };
}

/**
 * Whether a failed fetch left something a later attempt can resume from: a file with bytes in it
 * besides the entry's metadata and the JSON records kept beside partial files. An interruption (the
 * hive stopping) is always recorded instead, so the listing says what was cut off.
 */
async function holdsPartialFiles(folder: string): Promise<boolean> {
  const names = await readdir(folder).catch(() => []);
  for (const name of names) {
    if (name.endsWith(".json") || name.endsWith(".tmp")) continue;
    const info = await stat(path.join(folder, name)).catch(() => null);
    if (info !== null && (info.isDirectory() || info.size > 0)) return true;
  }
  return false;
}
