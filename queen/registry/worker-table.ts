// The Registry's live worker table, in memory only: filled by what the HiveSessions report, empty
// after a queen restart until the hives reconnect, never written to storage per heartbeat. Indexed
// by model (placement) and by hive (a hive going offline takes its workers with it); whoever needs
// to follow it (the dispatcher) subscribes to its WorkerChange events.
import type { LiveWorker, WorkerChange } from "../scheduling/contracts.js";
import type { WorkerRecord } from "./worker-record.js";

export type WorkerListener = (change: WorkerChange) => void;

interface Entry {
  live: LiveWorker;
  /** The worker's last reported heartbeat, for the public view (pid, slots busy, queue). */
  record: WorkerRecord;
}

export class WorkerTable {
  private readonly byId = new Map<string, Entry>();
  private readonly modelIndex = new Map<string, Set<string>>();
  private readonly hiveIndex = new Map<string, Set<string>>();
  private readonly listeners = new Set<WorkerListener>();

  get size(): number {
    return this.byId.size;
  }

  /** Adds or replaces a worker; true when it is new to the table. */
  upsert(record: WorkerRecord): boolean {
    const { workerId } = record.heartbeat;
    const previous = this.byId.get(workerId);
    if (previous) this.unindex(previous.live);
    const live = toLiveWorker(record);
    this.byId.set(workerId, { live, record });
    indexInto(this.modelIndex, live.model, workerId);
    indexInto(this.hiveIndex, live.hiveName, workerId);
    this.emit({ kind: "upsert", worker: live });
    return previous === undefined;
  }

  /** Removes a worker (`reason`: why it went, as worker_history says it); its last record, or undefined when it was not in the table. */
  remove(workerId: string, reason?: string): WorkerRecord | undefined {
    const entry = this.byId.get(workerId);
    if (!entry) return undefined;
    this.byId.delete(workerId);
    this.unindex(entry.live);
    this.emit({ kind: "gone", workerId, model: entry.live.model, hiveName: entry.live.hiveName, ...(reason === undefined ? {} : { reason }) });
    return entry.record;
  }

  get(workerId: string): LiveWorker | undefined {
    return this.byId.get(workerId)?.live;
  }

  record(workerId: string): WorkerRecord | undefined {
    return this.byId.get(workerId)?.record;
  }

  byModel(model: string): LiveWorker[] {
    return this.lookup(this.modelIndex.get(model));
  }

  byHive(hiveName: string): LiveWorker[] {
    return this.lookup(this.hiveIndex.get(hiveName));
  }

  all(): LiveWorker[] {
    return [...this.byId.values()].map((entry) => entry.live);
  }

  /** The records of every worker, or of one hive's. */
  records(hiveName?: string): WorkerRecord[] {
    const ids = hiveName === undefined ? this.byId.keys() : (this.hiveIndex.get(hiveName) ?? []);
    return [...ids].flatMap((id) => this.byId.get(id)?.record ?? []);
  }

  /** Calls `listener` with every change from now on; returns the unsubscribe. */
  subscribe(listener: WorkerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private lookup(ids: Set<string> | undefined): LiveWorker[] {
    return [...(ids ?? [])].flatMap((id) => this.byId.get(id)?.live ?? []);
  }

  private unindex(live: LiveWorker): void {
    unindexFrom(this.modelIndex, live.model, live.workerId);
    unindexFrom(this.hiveIndex, live.hiveName, live.workerId);
  }

  private emit(change: WorkerChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        console.error("a worker table listener failed", error);
      }
    }
  }
}

/** The heartbeat's figures placement reads, without what only the public view shows (pid, busy slots, queue). */
export function toLiveWorker(record: WorkerRecord): LiveWorker {
  const { pid: _pid, slotsBusy: _slotsBusy, queueLength: _queueLength, ...placed } = record.heartbeat;
  return { ...placed, hiveName: record.hiveName, lastSeenAtMs: record.lastSeenAtMs };
}

function indexInto(index: Map<string, Set<string>>, key: string, id: string): void {
  let ids = index.get(key);
  if (!ids) {
    ids = new Set();
    index.set(key, ids);
  }
  ids.add(id);
}

function unindexFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  ids?.delete(id);
  if (ids?.size === 0) index.delete(key);
}
