// Runs the jobs the queen starts on this hive, one operation each, and turns what they do into
// job_event frames: narration, progress and data while they run, then exactly one of done,
// error or cancelled. Keeps only the in-flight jobs' abort controllers, so a cancel finds them.
import { describeError, RbeeError } from "../../shared/errors.js";
import type { HiveToQueenFrame } from "../../shared/protocol/hive-frames.js";
import type { JobEvent } from "../../shared/protocol/job-event.js";
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import { runHiveCheck } from "./hive-check.js";
import type { HiveServices } from "./hive-services.js";
import { HiveStopping } from "./hive-stopping.js";
import { boundJobData, clampJobEvent } from "./clamp-job-event.js";
import type { JobContext } from "./job-context.js";
import { runModelDelete, runModelDownload, runModelList } from "./model-jobs.js";
import { runWorkerDelete } from "./worker-delete.js";
import { runWorkerCatalogList, runWorkerInstall } from "./worker-jobs.js";
import { runWorkerSpawn } from "./worker-spawn.js";

export interface JobRunnerOptions {
  /** Takes each job_event frame; the hive keeps it for replay until the queen acknowledges it. */
  send: (frame: Extract<HiveToQueenFrame, { type: "job_event" }>) => void;
  services: HiveServices;
  /** Also told about every event of the jobs it runs, e.g. to draw a download's progress bar (not of one refused as the hive stops). */
  onEvent?: (jobId: string, operation: HiveOperation["operation"], event: JobEvent) => void;
}

class JobCancelled extends Error {
  override readonly name = "JobCancelled";
}

export class JobRunner {
  private readonly running = new Map<string, AbortController>();
  /** Each running job's promise, so a shutdown can wait for them to record how they ended. */
  private readonly finishing = new Map<string, Promise<void>>();
  /** The next job_event seq per job, while it runs. */
  private readonly nextSeq = new Map<string, number>();
  /**
   * Set once the hive began to stop: a job the queen starts after that (it hears of the stop only
   * when the socket closes; say, a worker_spawn for the requests of a worker the hive just
   * stopped) ends at once, cancelled, and does nothing: its worker would start after the hive
   * listed the workers it stops, and run on without it.
   */
  private stopped: HiveStopping | undefined;

  constructor(private readonly options: JobRunnerOptions) {}

  start(jobId: string, operation: HiveOperation): void {
    if (this.running.has(jobId)) return; // a repeated start (queen retry): the job already runs
    if (this.stopped) {
      this.options.services.log(`job ${jobId} [${operation.operation}] not started: ${this.stopped.message}`);
      this.emit(jobId, { type: "cancelled", message: describeError(this.stopped) });
      return;
    }
    const controller = new AbortController();
    this.running.set(jobId, controller);
    this.nextSeq.set(jobId, 0);
    const finished = this.run(jobId, operation, controller.signal).finally(() => {
      this.running.delete(jobId);
      this.nextSeq.delete(jobId);
      this.finishing.delete(jobId);
    });
    this.finishing.set(jobId, finished);
  }

  /** The jobs running now, for the hello after a reconnect. */
  runningJobIds(): string[] {
    return [...this.running.keys()];
  }

  cancel(jobId: string): void {
    const controller = this.running.get(jobId);
    if (!controller) {
      // Finished already: its end crossed the cancel and tells the queen how it ended. (A hive
      // that restarted lost its jobs; the queen ended them when its hello did not list them.)
      this.options.services.log(`job ${jobId}: cancel ignored, the job is not running here`);
      return;
    }
    this.options.services.log(`job ${jobId} cancelled by the queen`);
    controller.abort(new JobCancelled(`job ${jobId} was cancelled`));
  }

  /**
   * Interrupts every job for shutdown, and refuses any started from now on, and waits (at most
   * `waitMs`) for them to record it: a download keeps its partial file for the next hive, a
   * worker that was loading keeps running.
   */
  async interruptAll(waitMs: number): Promise<void> {
    const stopping = new HiveStopping();
    this.stopped = stopping;
    for (const controller of this.running.values()) controller.abort(stopping);
    const settled = Promise.allSettled([...this.finishing.values()]);
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
  }

  private async run(jobId: string, operation: HiveOperation, signal: AbortSignal): Promise<void> {
    const emit = (event: JobEvent) => {
      this.emit(jobId, event);
      this.options.onEvent?.(jobId, operation.operation, event);
    };
    const context: JobContext = {
      jobId,
      signal,
      narrate: (action, message) => {
        this.options.services.log(`job ${jobId} [${operation.operation}] ${action}: ${message}`);
        emit({ type: "narration", action, message });
      },
      progress: (bytes, total, bytesPerSecond) =>
        emit({ type: "progress", bytes, total, ...(bytesPerSecond === undefined ? {} : { bytes_per_second: Math.round(bytesPerSecond) }) }),
      data: (payload) => emit({ type: "data", payload: boundJobData(payload) }),
    };
    try {
      await this.dispatch(operation, context);
      emit({ type: "done" });
    } catch (error) {
      if (signal.aborted) {
        emit({ type: "cancelled", message: describeError(signal.reason) });
        return;
      }
      const code = error instanceof RbeeError ? error.code : "operation_failed";
      const message = describeError(error);
      this.options.services.log(`job ${jobId} [${operation.operation}] failed: ${message}`);
      emit({ type: "error", code, message });
    }
  }

  private dispatch(operation: HiveOperation, context: JobContext): Promise<void> {
    const services = this.options.services;
    switch (operation.operation) {
      case "worker_spawn":
        return runWorkerSpawn(operation, context, services);
      case "worker_delete":
        return runWorkerDelete(operation, context, {
          stopGraceMs: services.workerStopGraceMs,
          installations: services.installations,
          releaseWatch: (workerId) => services.exits.release(workerId),
        });
      case "model_download":
        return runModelDownload(operation, context, services.models);
      case "model_delete":
        return runModelDelete(operation, context, services.models, services.installations);
      case "model_list":
        return runModelList(context, services.models);
      case "worker_install":
        return runWorkerInstall(operation, context, services);
      case "worker_catalog_list":
        return runWorkerCatalogList(context, services);
      case "hive_check":
        return runHiveCheck(context);
      default: {
        const unreachable: never = operation;
        throw new Error(`unknown operation ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private emit(jobId: string, unbounded: JobEvent): void {
    const event = clampJobEvent(unbounded);
    const seq = this.nextSeq.get(jobId) ?? 0;
    if (this.running.has(jobId)) this.nextSeq.set(jobId, seq + 1);
    // Kept for replay while the queen is unreachable (JobEventOutbox).
    this.options.send({ type: "job_event", jobId, seq, event });
  }
}
