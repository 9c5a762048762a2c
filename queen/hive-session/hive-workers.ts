// The workers of one hive as its HiveSession knows them. Issued ids: every worker id the queen
// gave this hive in a worker_spawn job, kept in the session's storage (they outlive a queen
// restart), because a heartbeat is accepted only for one of them: a hive cannot claim another
// hive's worker or make one up. Liveness: each live worker's last heartbeat and when it was heard,
// in memory only (no storage write per heartbeat); three silent intervals and it is gone. What the
// Registry must hear of is decided here too: see worker-changes.ts.
import { z } from "zod";
import { WORKER_NOT_ISSUED } from "../../shared/protocol/hive-frames.js";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";
import type { WorkerReport } from "../registry/worker-report.js";
import { deleteKeys } from "./delete-keys.js";
import { FIGURES_REFRESH_MS, heartbeatNews, LAST_SEEN_REFRESH_MS } from "./worker-changes.js";

/** Missed heartbeat intervals after which a worker is gone. */
export const MISSED_HEARTBEATS_LIMIT = 3;

const ISSUED_KEY_PREFIX = "issued:";

const IssuedWorker = z.object({
  model: z.string(),
  /** The worker_spawn job that carries the id: while the hive still runs it, the worker may yet appear. */
  jobId: z.string(),
  issuedAtMs: z.number(),
  /** Set once its first heartbeat was accepted: a session woken from eviction expects to hear from it. */
  announced: z.boolean(),
  /**
   * It left the live set (silent, or its process exited) and was not heard since: a session woken
   * from hibernation does not expect it, where it would count it live and drop it for silence
   * again, logging its death and telling the Registry anew on every wake.
   */
  away: z.boolean().optional(),
});
type IssuedWorker = z.infer<typeof IssuedWorker>;

interface LiveWorkerState {
  /** Undefined for a worker known only from storage (the session woke up) and not heard since. */
  heartbeat?: WorkerHeartbeat;
  lastHeardMs: number;
  /** What the Registry was last told, and when. */
  reported?: WorkerHeartbeat;
  reportedAtMs: number;
  /** Its figures changed since `reported`: send them with the next refresh. */
  figuresDue: boolean;
}

/** A worker the session stopped tracking: `wasLive` ones are in the Registry and served their model. */
export interface ForgottenWorker {
  workerId: string;
  model: string;
  wasLive: boolean;
  /** It had left the live set before (exited, or fell silent, while its hive was here): its end was told then. */
  endedEarlier?: boolean;
  /** For one dropped for silence: its PID and when it was last heard, from its last heartbeat. */
  pid?: number;
  lastHeardMs?: number;
}

export type Refusal = { code: typeof WORKER_NOT_ISSUED | "worker_model_mismatch" | "too_many_workers"; message: string };

/** What became of a heartbeat: refused, or accepted with what the Registry must now be told. */
export type HeardOutcome =
  | { accepted: false; refusal: Refusal }
  | { accepted: true; upserts: WorkerReport[]; stopped: boolean; isNew: boolean };

export class HiveWorkers {
  private readonly issued = new Map<string, IssuedWorker>();
  private readonly live = new Map<string, LiveWorkerState>();
  /** The workers the latest hello listed (a spawn that ends cancelled keeps its id if listed). */
  private listedInHello = new Set<string>();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly settings: () => { heartbeatIntervalMs: number; maxWorkersPerHive: number },
  ) {}

  /**
   * Reads the issued ids. When the hive is `connected` (the session woke from hibernation with its
   * socket open), workers heard before count as live from `nowMs`, so silence expires them; a
   * session woken without its hive (a queen restart) waits for the hello instead.
   */
  async load(nowMs: number, connected: boolean): Promise<void> {
    for (const [key, value] of await this.storage.list({ prefix: ISSUED_KEY_PREFIX })) {
      const parsed = IssuedWorker.safeParse(value);
      if (!parsed.success) continue;
      const workerId = key.slice(ISSUED_KEY_PREFIX.length);
      this.issued.set(workerId, parsed.data);
      if (connected && parsed.data.announced && !parsed.data.away) this.live.set(workerId, { lastHeardMs: nowMs, reportedAtMs: nowMs, figuresDue: false });
    }
  }

  /** Records `workerId` as issued to this hive for `model`; a refusal when the hive has its fill of workers. */
  async issue(workerId: string, model: string, jobId: string, nowMs: number): Promise<(Refusal & { code: "too_many_workers" }) | undefined> {
    const { maxWorkersPerHive } = this.settings();
    if (this.issued.size >= maxWorkersPerHive) {
      // Workers that were heard and went silent hold no place: the oldest of them makes room.
      const silent = [...this.issued].find(([id, issued]) => issued.announced && !this.live.has(id));
      if (!silent) return { code: "too_many_workers", message: tooMany(maxWorkersPerHive, "start another") };
      await this.forget([silent[0]]);
    }
    const record: IssuedWorker = { model, jobId, issuedAtMs: nowMs, announced: false };
    this.issued.set(workerId, record);
    await this.storage.put(ISSUED_KEY_PREFIX + workerId, record);
    return undefined;
  }

  isIssued(workerId: string): boolean {
    return this.issued.has(workerId);
  }

  isLive(workerId: string): boolean {
    return this.live.get(workerId)?.heartbeat !== undefined;
  }

  /** Forgets workers for good (stopped, deleted, failed to spawn, not in the hello, gone silent). */
  async forget(workerIds: string[]): Promise<ForgottenWorker[]> {
    const forgotten: ForgottenWorker[] = [];
    for (const workerId of workerIds) {
      const issued = this.issued.get(workerId);
      if (!issued) continue;
      forgotten.push({ workerId, model: issued.model, wasLive: this.isLive(workerId), ...(issued.away === true ? { endedEarlier: true } : {}) });
      this.issued.delete(workerId);
      this.live.delete(workerId);
    }
    await deleteKeys(this.storage, forgotten.map((worker) => ISSUED_KEY_PREFIX + worker.workerId));
    return forgotten;
  }

  /** A heartbeat from the hive. */
  async heard(heartbeat: WorkerHeartbeat, nowMs: number): Promise<HeardOutcome> {
    const { workerId } = heartbeat;
    const issued = this.issued.get(workerId);
    if (!issued) {
      return { accepted: false, refusal: { code: WORKER_NOT_ISSUED, message: `the queen never started worker ${workerId} on this hive; only workers of its worker_spawn jobs may heartbeat` } };
    }
    if (issued.model !== heartbeat.model) {
      const message = `worker ${workerId} was started for model '${issued.model}', not '${heartbeat.model}'`;
      return { accepted: false, refusal: { code: "worker_model_mismatch", message } };
    }
    if (heartbeat.state === "stopped") return { accepted: true, upserts: [], stopped: true, isNew: false };
    let state = this.live.get(workerId);
    const { maxWorkersPerHive } = this.settings();
    if (!state && this.live.size >= maxWorkersPerHive) {
      return { accepted: false, refusal: { code: "too_many_workers", message: tooMany(maxWorkersPerHive, "accept another") } };
    }
    if (!issued.announced || issued.away) {
      issued.announced = true;
      delete issued.away;
      await this.storage.put(ISSUED_KEY_PREFIX + workerId, issued);
    }
    const isNew = state?.heartbeat === undefined;
    if (!state) {
      state = { lastHeardMs: nowMs, reportedAtMs: nowMs, figuresDue: false };
      this.live.set(workerId, state);
    }
    state.heartbeat = heartbeat;
    state.lastHeardMs = nowMs;
    const news = state.reported ? heartbeatNews(state.reported, heartbeat) : "change";
    if (news === "figures" || nowMs - state.reportedAtMs >= LAST_SEEN_REFRESH_MS) state.figuresDue = true;
    if (news === "change") return { accepted: true, upserts: this.takeReports(nowMs, [workerId]), stopped: false, isNew };
    // Figures ride along with the first refresh that falls due: one call for the whole hive.
    const refreshDue = state.figuresDue && nowMs - state.reportedAtMs >= FIGURES_REFRESH_MS;
    return { accepted: true, upserts: refreshDue ? this.takeReports(nowMs, []) : [], stopped: false, isNew: false };
  }

  /** Everything the Registry should hold of this hive (a snapshot); marks it reported. */
  snapshot(nowMs: number): WorkerReport[] {
    return this.takeReports(nowMs, [...this.live.keys()]);
  }

  /**
   * The hive saw the worker's process end (worker_exited): it leaves the live table now. Its id
   * stays issued, as a silent one's does, until a hello leaves it out: a report that was wrong
   * then costs the worker no more than its next heartbeat, which brings it back.
   */
  async exited(workerId: string): Promise<ForgottenWorker[]> {
    const state = this.live.get(workerId);
    if (!state) return [];
    this.live.delete(workerId);
    await this.markAway([workerId]);
    return [{ workerId, model: this.issued.get(workerId)?.model ?? "", wasLive: state.heartbeat !== undefined }];
  }

  /**
   * Live workers silent for MISSED_HEARTBEATS_LIMIT intervals while their hive's socket stayed up:
   * dead or wedged, and the hive relays to them no more either. They leave the live set; their
   * ids stay issued (a wedged worker that recovers is still this hive's) until a hello leaves them
   * out or a spawn needs their place.
   */
  async expire(nowMs: number): Promise<ForgottenWorker[]> {
    const limitMs = this.expiryAgeMs();
    const expired = [...this.live].filter(([, state]) => nowMs - state.lastHeardMs >= limitMs);
    for (const [workerId] of expired) this.live.delete(workerId);
    await this.markAway(expired.map(([workerId]) => workerId));
    return expired.map(([workerId, state]) => ({
      workerId,
      model: this.issued.get(workerId)?.model ?? "",
      wasLive: state.heartbeat !== undefined,
      ...(state.heartbeat === undefined ? {} : { pid: state.heartbeat.pid, lastHeardMs: state.lastHeardMs }),
    }));
  }

  /** Marks issued workers away (IssuedWorker.away), in one write. */
  private async markAway(workerIds: readonly string[]): Promise<void> {
    const entries: Record<string, IssuedWorker> = {};
    for (const workerId of workerIds) {
      const issued = this.issued.get(workerId);
      if (!issued || issued.away) continue;
      issued.away = true;
      entries[ISSUED_KEY_PREFIX + workerId] = issued;
    }
    if (Object.keys(entries).length > 0) await this.storage.put(entries);
  }

  /** When the next live worker would expire, if any is live. */
  nextExpiryMs(): number | undefined {
    let earliest = Number.POSITIVE_INFINITY;
    for (const state of this.live.values()) earliest = Math.min(earliest, state.lastHeardMs);
    return earliest === Number.POSITIVE_INFINITY ? undefined : earliest + this.expiryAgeMs();
  }

  /** The workers heard from before, whatever became of them since: those a hive coming back may bring back. */
  announced(): Array<{ workerId: string; model: string }> {
    return [...this.issued].filter(([, issued]) => issued.announced).map(([workerId, issued]) => ({ workerId, model: issued.model }));
  }

  /** The hive's socket is gone: none of its workers is live (their ids stay issued for the hive's return). */
  disconnected(): ForgottenWorker[] {
    const wereLive = [...this.live.keys()].map((workerId) => ({ workerId, model: this.issued.get(workerId)?.model ?? "", wasLive: this.isLive(workerId) }));
    this.live.clear();
    return wereLive;
  }

  /**
   * A hello listed `workers` and `jobs`: every issued worker it does not list is gone, unless its
   * spawn job still runs there (the worker may not exist yet). Returns the ids dropped.
   */
  async reconcile(workers: string[], jobs: string[]): Promise<ForgottenWorker[]> {
    this.listedInHello = new Set(workers);
    const running = new Set(jobs);
    return this.forget([...this.issued].filter(([id, issued]) => !this.listedInHello.has(id) && !running.has(issued.jobId)).map(([id]) => id));
  }

  /** Workers the latest hello listed that have not beaten since: the hive still runs them, and they will. */
  returning(): { workerId: string; model: string }[] {
    return [...this.listedInHello].flatMap((workerId) => {
      const issued = this.issued.get(workerId);
      return issued && !this.isLive(workerId) ? [{ workerId, model: issued.model }] : [];
    });
  }

  /**
   * A spawn job ended without a worker. `failed`: the hive stopped the worker, so it is gone. Else
   * (cancelled) it is gone unless it lives on: a stopping hive leaves a loading worker running.
   */
  async spawnEnded(workerId: string, failed: boolean): Promise<ForgottenWorker[]> {
    if (!failed && (this.isLive(workerId) || this.listedInHello.has(workerId))) return [];
    return this.forget([workerId]);
  }

  get liveCount(): number {
    return this.live.size;
  }

  /** Reports for `ids` plus every live worker whose figures are due; marks them reported. */
  private takeReports(nowMs: number, ids: string[]): WorkerReport[] {
    const chosen = new Set(ids);
    for (const [id, state] of this.live) if (state.figuresDue) chosen.add(id);
    const reports: WorkerReport[] = [];
    for (const id of chosen) {
      const state = this.live.get(id);
      if (!state?.heartbeat) continue;
      state.reported = state.heartbeat;
      state.reportedAtMs = nowMs;
      state.figuresDue = false;
      reports.push({ heartbeat: state.heartbeat, lastSeenAtMs: state.lastHeardMs });
    }
    return reports;
  }

  private expiryAgeMs(): number {
    return this.settings().heartbeatIntervalMs * MISSED_HEARTBEATS_LIMIT;
  }
}

function tooMany(max: number, what: string): string {
  return `this hive runs ${max} workers, the most the queen allows one hive (MAX_WORKERS_PER_HIVE); stop one before you ${what}`;
}
