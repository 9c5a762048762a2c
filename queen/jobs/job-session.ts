// JobSession is a Durable Object per job (named by the job id) that owns the job's event log
// and its watchers' streams. The hive's HiveSession appends the events the hive sends; the
// queen itself ends a job when its hive vanished, never confirmed a cancel, went quiet for a day,
// or sent an event that could not be stored. The terminal event is mirrored to the job's D1
// record, which is what survives and what lists read; this object's storage is deleted a week
// after the end.
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { describeError } from "../../shared/errors.js";
import {
  isTerminal,
  JobEvent,
  type StampedJobEvent,
  type TerminalJobEvent,
} from "../../shared/protocol/job-event.js";
import { SequenceOrder } from "../streams/sequence-order.js";
import { JobLog } from "./job-log.js";
import { markEnded } from "./job-records.js";
import { JobWatchers } from "./job-watchers.js";

/** How long the queen waits for the hive to confirm a cancel before ending the job itself (ms). */
export const CANCEL_CONFIRM_TIMEOUT_MS = 30_000;
/** How long an ended job's event log stays for late watchers; its D1 record stays for JOB_RETENTION_DAYS (ms). */
export const ENDED_LOG_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * How often an unfinished job is checked for silence (ms): one that logged nothing between two
 * checks ends as `job_stalled`, so its storage is deleted in time even when its end was lost.
 * Downloads report progress every few seconds and spawns end once the model is loaded.
 */
export const JOB_IDLE_CHECK_MS = 24 * 60 * 60 * 1000;
/** The error code of a job ended because one of its events could not be stored. */
export const JOB_EVENT_UNRECORDABLE = "job_event_unrecordable";
/** How long events after a missing one wait for it before they are logged without it (ms). */
const MISSING_EVENT_TIMEOUT_MS = 5000;
/** Early events held at most; beyond this the gap is given up on, not waited for. */
const MAX_HELD_EVENTS = 1000;

const META_KEY = "meta";
/** Events looked back through for the newest progress: narration between progress events is rare. */
const PROGRESS_LOOKBACK = 20;

/** A job's newest progress, as the dashboard shows it. */
export interface JobProgress {
  bytes: number;
  total: number | null;
  bytes_per_second: number | null;
}

const JobMeta = z.object({
  jobId: z.string(),
  hiveName: z.string(),
  operation: z.string(),
  /** Sequence number of the newest logged event; 0 before the first. */
  lastSeq: z.number().int().min(0),
  /** The hive's numbering (job_event seq) of the next event in order. */
  nextHiveSeq: z.number().int().min(0),
  /** The terminal event once the job ended. */
  end: JobEvent.nullable(),
  /** The newest data payload: the operation's result for programs. */
  result: z.record(z.string(), z.unknown()).nullable(),
  cancelRequested: z.boolean(),
  /** `lastSeq` when the idle check was armed; absent in objects stored before it existed. */
  idleCheckSeq: z.number().int().min(0).optional(),
});
type JobMeta = z.infer<typeof JobMeta>;

/** One event ready to be logged and the job's state once it is. */
interface Step {
  stamped: StampedJobEvent;
  meta: JobMeta;
}

/**
 * `ended`: the job has ended, so its hive may forget it. `duplicate`: the event had come before
 * (a replay after a reconnect). `recordedThrough`: the hive's numbering of the newest event
 * recorded in order (-1 before the first), which the hive may stop keeping for replay.
 */
export type AppendOutcome = { accepted: true; ended: boolean; duplicate: boolean; recordedThrough: number } | { accepted: false; code: "job_unknown" | "job_not_yours" | "job_ended"; message: string };

export interface JobOutcome {
  /** Undefined when the job had not ended within the wait. */
  end: TerminalJobEvent | undefined;
  /** The newest data payload as JSON text (RPC can't type arbitrary objects), or null. */
  resultJson: string | null;
  /** Someone asked the queen to cancel the job (DELETE /v1/jobs/:id): a cancelled end is theirs, not the hive's own. */
  cancelRequested: boolean;
}

export class JobSession extends DurableObject<Env> {
  private meta: JobMeta | undefined;
  private readonly log: JobLog;
  private readonly watchers = new JobWatchers();
  private readonly endWaiters = new Set<() => void>();
  // Early events wait in memory only: they are held for seconds at most, while the hive is
  // streaming to this object, which keeps it from being evicted.
  private order: SequenceOrder<JobEvent> | undefined;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.log = new JobLog(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      const parsed = JobMeta.safeParse(await ctx.storage.get(META_KEY));
      this.meta = parsed.success ? parsed.data : undefined;
    });
  }

  /** Called once, before the hive hears of the job; a second call changes nothing. */
  async open(job: { jobId: string; hiveName: string; operation: string }): Promise<void> {
    if (this.meta) return;
    const meta: JobMeta = { ...job, lastSeq: 0, nextHiveSeq: 0, end: null, result: null, cancelRequested: false, idleCheckSeq: 0 };
    await this.ctx.storage.put(META_KEY, meta);
    this.meta = meta;
    await this.ctx.storage.setAlarm(Date.now() + JOB_IDLE_CHECK_MS);
  }

  /** Event number `seq` the hive sent for this job; refused unless `hiveName` is the job's hive. */
  async append(hiveName: string, seq: number, event: JobEvent): Promise<AppendOutcome> {
    const meta = this.meta;
    if (!meta) return { accepted: false, code: "job_unknown", message: "no such job" };
    if (meta.hiveName !== hiveName) {
      console.warn(`job ${meta.jobId}: refused an event from hive ${hiveName}; the job runs on ${meta.hiveName}`);
      return { accepted: false, code: "job_not_yours", message: `job ${meta.jobId} does not run on hive '${hiveName}'` };
    }
    if (meta.end) return { accepted: false, code: "job_ended", message: `job ${meta.jobId} already ended (${meta.end.type})` };
    this.order ??= new SequenceOrder<JobEvent>(meta.nextHiveSeq, MAX_HELD_EVENTS);
    const duplicate = seq < this.order.nextSeq;
    const ready = this.order.accept(seq, event);
    await this.recordAll(this.order.overflowing ? [...ready, ...this.order.flush()] : ready);
    if (this.gapTimer !== undefined) clearTimeout(this.gapTimer);
    if (this.order.holding) this.gapTimer = setTimeout(() => void this.giveUpOnGap(), MISSING_EVENT_TIMEOUT_MS);
    return { accepted: true, ended: !this.meta || this.meta.end !== null, duplicate, recordedThrough: this.order.nextSeq - 1 };
  }

  /** Ends the job from the queen's side (hive gone, cancel unconfirmed); idempotent. */
  async finish(end: TerminalJobEvent): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    if (meta.end && isTerminal(meta.end)) {
      // Already ended here; make sure D1 says so too (its write may have failed before).
      await this.mirrorEnd(meta.jobId, meta.end);
      return;
    }
    await this.record(end);
  }

  /** A Server-Sent Events response: the logged events after `afterSeq`, then live ones. */
  async stream(afterSeq: number): Promise<Response> {
    // Backlog and registration happen without an await in between that could let an event
    // slip past: storage reads keep the object's input gate closed.
    const backlog = await this.log.since(afterSeq);
    // A job this object never opened has nothing more to say: end the stream after the backlog.
    const body = this.watchers.open(backlog, !this.meta || this.meta.end !== null);
    return new Response(body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
    });
  }

  /** Notes a cancel; if the hive does not confirm it in time, the alarm ends the job. */
  async requestCancel(): Promise<{ ended: boolean }> {
    const meta = this.meta;
    if (!meta || meta.end) return { ended: true };
    const cancelling = { ...meta, cancelRequested: true };
    await this.ctx.storage.put(META_KEY, cancelling);
    this.meta = cancelling;
    await this.ctx.storage.setAlarm(Date.now() + CANCEL_CONFIRM_TIMEOUT_MS);
    return { ended: false };
  }

  /**
   * Arms this object's alarm if it has none (objects from before idle checks had none while the
   * job ran), so its storage is deleted in time; says whether this object knows the job at all.
   */
  async ensureExpiry(): Promise<boolean> {
    const meta = this.meta;
    if (!meta) return false;
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + (meta.end ? ENDED_LOG_RETENTION_MS : JOB_IDLE_CHECK_MS));
    }
    return true;
  }

  /** The newest progress event among the last PROGRESS_LOOKBACK logged, or null (the dashboard's bars). */
  async latestProgress(): Promise<JobProgress | null> {
    const progress = (await this.log.newest(PROGRESS_LOOKBACK)).find((event) => event.type === "progress");
    if (progress?.type !== "progress") return null;
    return { bytes: progress.bytes, total: progress.total, bytes_per_second: progress.bytes_per_second ?? null };
  }

  /** Waits up to `timeoutMs` for the job to end; says how it ended and its result. */
  async outcome(timeoutMs: number): Promise<JobOutcome> {
    if (!this.meta?.end) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        const waiters = this.endWaiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
    const end = this.meta?.end;
    const result = this.meta?.result;
    return { end: end && isTerminal(end) ? end : undefined, resultJson: result ? JSON.stringify(result) : null, cancelRequested: this.meta?.cancelRequested ?? false };
  }

  // One alarm, three uses: before the end it is the cancel deadline or the idle check, after it
  // the storage's expiry. The D1 record stays, so GET /v1/jobs/:id still answers.
  override async alarm(): Promise<void> {
    const meta = this.meta;
    if (!meta || meta.end) {
      await this.ctx.storage.deleteAll();
      this.meta = undefined;
      return;
    }
    if (meta.cancelRequested) {
      await this.record({
        type: "cancelled",
        message: `hive '${meta.hiveName}' did not confirm the cancel within ${CANCEL_CONFIRM_TIMEOUT_MS / 1000} s; the operation may have finished on the hive anyway`,
      });
      return;
    }
    if (meta.idleCheckSeq === meta.lastSeq) {
      await this.record({
        type: "error",
        code: "job_stalled",
        message: `hive '${meta.hiveName}' sent nothing for this job for ${JOB_IDLE_CHECK_MS / 3_600_000} hours; the queen gave up on it (check the hive's log, then submit the job again)`,
      });
      return;
    }
    const checked = { ...meta, idleCheckSeq: meta.lastSeq };
    await this.ctx.storage.put(META_KEY, checked);
    this.meta = checked;
    await this.ctx.storage.setAlarm(Date.now() + JOB_IDLE_CHECK_MS);
  }

  private async giveUpOnGap(): Promise<void> {
    const meta = this.meta;
    if (!meta || !this.order || meta.end) return;
    console.warn(`job ${meta.jobId}: event ${this.order.nextSeq} from hive ${meta.hiveName} never arrived; logging the later ones without it`);
    await this.recordAll(this.order.flush());
  }

  private async recordAll(events: JobEvent[]): Promise<void> {
    for (const event of events) await this.record(event);
  }

  /**
   * Logs one event. The event and the job's new state are stored in one write, and this object's
   * memory changes only once that write succeeded: a write that fails (a value over the storage
   * limit) must not leave memory ahead of storage, where every later write would carry it and
   * fail too. A job whose event cannot be stored ends as an error instead of running forever.
   */
  private async record(event: JobEvent): Promise<void> {
    const meta = this.meta;
    if (!meta || meta.end) return; // nothing after the end counts
    const step = this.nextStep(meta, event);
    try {
      await this.log.append(step.stamped, { [META_KEY]: step.meta });
    } catch (error) {
      console.error(`job ${meta.jobId}: could not store event ${step.stamped.seq} (${event.type}); ending the job`, error);
      await this.endUnrecordable(meta, event, error);
      return;
    }
    await this.apply(step);
  }

  private async endUnrecordable(meta: JobMeta, event: JobEvent, error: unknown): Promise<void> {
    const step = this.nextStep(meta, {
      type: "error",
      code: JOB_EVENT_UNRECORDABLE,
      message: `the queen could not store this job's ${event.type} event (${describeError(error).slice(0, 200)}); the operation may have finished on hive '${meta.hiveName}' anyway`,
    });
    try {
      await this.log.append(step.stamped, { [META_KEY]: step.meta });
    } catch (again) {
      // Storage refuses even a short event: the end lives in memory and in D1, which is what reads see.
      console.error(`job ${meta.jobId}: could not store its end either`, again);
    }
    await this.apply(step);
  }

  private nextStep(meta: JobMeta, event: JobEvent): Step {
    const seq = meta.lastSeq + 1;
    return {
      stamped: { ...event, job_id: meta.jobId, hive: meta.hiveName, ts: new Date().toISOString(), seq },
      meta: {
        ...meta,
        lastSeq: seq,
        nextHiveSeq: this.order?.nextSeq ?? meta.nextHiveSeq,
        result: event.type === "data" ? event.payload : meta.result,
        end: isTerminal(event) ? event : null,
      },
    };
  }

  /** Makes a stored step the job's state and tells watchers and waiters. */
  private async apply(step: Step): Promise<void> {
    this.meta = step.meta;
    const end = step.meta.end;
    this.watchers.broadcast(step.stamped, end !== null);
    if (!end || !isTerminal(end)) return;
    for (const wake of [...this.endWaiters]) wake();
    await this.mirrorEnd(step.meta.jobId, end);
    await this.ctx.storage.setAlarm(Date.now() + ENDED_LOG_RETENTION_MS);
  }

  private async mirrorEnd(jobId: string, end: TerminalJobEvent): Promise<void> {
    try {
      await markEnded(this.env.DB, jobId, end);
    } catch (error) {
      // The next read of the job reconciles it through finish(); the stream already ended.
      console.error(`job ${jobId}: could not record its end in D1`, error);
    }
  }
}
