// The job side of a HiveSession: it forwards a hive's job events to each job's JobSession in
// arrival order and acknowledges them (so the hive can replay what a blip lost), reconciles the
// jobs a reconnecting hive lists in its hello, and ends the jobs of a hive that is gone. The
// HiveSession owns the sockets; this owns what the queen believes runs on the hive.
import type { JobEvent, TerminalJobEvent } from "../../shared/protocol/job-event.js";
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import type { QueenToHiveFrame } from "../../shared/protocol/hive-frames.js";
import { applyJobEffects } from "../jobs/job-effects.js";
import { jobSessionStub } from "../jobs/stub.js";
import type { HiveJobs } from "./hive-jobs.js";
import { RecentIds } from "./recent-ids.js";
import { TaskChain } from "./task-chain.js";
import { JOB_LOST } from "../jobs/job-lost.js";

export type SendFrame = (ws: WebSocket, frame: QueenToHiveFrame) => void;

/** What a job's end means for the hive's workers: a spawn that ended without one, a worker deleted. */
export type WorkerJobEnd = { kind: "spawn_failed"; workerId: string; failed: boolean } | { kind: "deleted"; workerId: string };

export class HiveJobDesk {
  /** Jobs that ended lately: an event replayed for one of these is acknowledged without a complaint. */
  private readonly endedJobs = new RecentIds(1000);
  // Job events are forwarded one at a time, in arrival order: each forward awaits a JobSession,
  // and without this chain a later event could overtake an earlier one during that await.
  private readonly chain = new TaskChain((error) => console.error("a hive's job event could not be handled", error));

  constructor(
    private readonly jobs: HiveJobs,
    private readonly env: Env,
    private readonly send: SendFrame,
    private readonly onWorkerJobEnd: (end: WorkerJobEnd) => Promise<void>,
    /** Whether a refusal on `ws` may be logged now: a hive sending refused events at length must not flood the log. */
    private readonly mayLogRefusal: (ws: WebSocket) => boolean = () => true,
  ) {}

  /** A `job_event` frame from the hive on `ws`. */
  onEvent(ws: WebSocket, hiveName: string, jobId: string, seq: number, event: JobEvent): Promise<void> {
    return this.chain.run(() => this.forward(ws, hiveName, jobId, seq, event));
  }

  /**
   * After a reconnect: the jobs the queen thought ran on this hive (`tracked`) but the hive's
   * hello does not list are gone (the hive restarted, or never got them); listed jobs the queen
   * no longer tracks (it ended them while the hive was away) are cancelled on the hive.
   */
  reconcile(ws: WebSocket, hiveName: string, tracked: string[], listed: string[]): Promise<void> {
    return this.chain.run(async () => {
      const listedIds = new Set(listed);
      for (const jobId of tracked) {
        if (listedIds.has(jobId)) continue;
        console.warn(`hive ${hiveName}: came back without job ${jobId}; ending it`);
        await this.end(jobId, {
          type: "error",
          code: JOB_LOST,
          message: `hive '${hiveName}' no longer runs this job (it restarted, or never received it); submit the job again`,
        });
      }
      for (const jobId of listedIds) {
        if (!(await this.jobs.get(jobId))) this.send(ws, { type: "job_cancel", jobId });
      }
    });
  }

  /** The hive is gone for good: its unfinished jobs end as errors rather than run forever on paper. */
  failAll(hiveName: string): Promise<void> {
    return this.chain.run(async () => {
      for (const jobId of await this.jobs.ids()) {
        await this.end(jobId, {
          type: "error",
          code: "hive_disconnected",
          message: `hive '${hiveName}' disconnected while the job ran; check that rbee-hive is running there, then submit the job again`,
        });
      }
      await this.jobs.clearOffline();
    });
  }

  /** Resolves once every event that arrived so far has been handled. */
  idle(): Promise<void> {
    return this.chain.idle();
  }

  private async forward(ws: WebSocket, hiveName: string, jobId: string, seq: number, event: JobEvent): Promise<void> {
    const operation = await this.jobs.get(jobId);
    if (!operation) {
      // Not a job this queen gave this hive (or one that already ended): never let it land. The
      // ack stops the hive replaying it; a replay of a job that just ended is no news.
      if (!this.endedJobs.has(jobId)) {
        if (this.mayLogRefusal(ws)) console.warn(`hive ${hiveName}: refused an event for job ${jobId}, which is not running on this hive`);
        this.send(ws, { type: "error", code: "job_not_yours", message: `job ${jobId} is not running on hive '${hiveName}'` });
      }
      this.send(ws, { type: "job_ack", jobId, seq });
      return;
    }
    try {
      const outcome = await jobSessionStub(this.env, jobId).append(hiveName, seq, event);
      if (!outcome.accepted) {
        this.send(ws, { type: "error", code: outcome.code, message: outcome.message });
        if (outcome.code !== "job_not_yours") await this.forget(jobId);
        this.send(ws, { type: "job_ack", jobId, seq }); // refused for good: replaying it cannot help
        return;
      }
      if (!outcome.duplicate) {
        await applyJobEffects(this.env, hiveName, operation, event);
        const end = workerJobEnd(operation, event);
        if (end) await this.onWorkerJobEnd(end);
      }
      if (outcome.ended) await this.forget(jobId);
      if (outcome.recordedThrough >= 0) this.send(ws, { type: "job_ack", jobId, seq: outcome.recordedThrough });
    } catch (error) {
      // Not acknowledged: the hive replays the event after its next reconnect.
      console.error(`hive ${hiveName}: could not forward an event of job ${jobId}`, error);
    }
  }

  private async end(jobId: string, end: TerminalJobEvent): Promise<void> {
    await jobSessionStub(this.env, jobId).finish(end);
    await this.forget(jobId);
  }

  private async forget(jobId: string): Promise<void> {
    await this.jobs.remove(jobId);
    this.endedJobs.add(jobId);
  }
}

function workerJobEnd(operation: HiveOperation, event: JobEvent): WorkerJobEnd | undefined {
  if (operation.operation === "worker_spawn" && (event.type === "error" || event.type === "cancelled")) {
    return { kind: "spawn_failed", workerId: operation.workerId, failed: event.type === "error" };
  }
  if (operation.operation === "worker_delete" && event.type === "done") return { kind: "deleted", workerId: operation.workerId };
  return undefined;
}
