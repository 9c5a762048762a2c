// Notices this hive's serving workers exiting, so that the queen hears of it at once rather than
// after three missed heartbeats (~15 s, in which a request placed on the worker fails over and the
// worker stays listed). A worker this hive spawned is its child, and its exit is an event, which
// says how it ended; one a previous hive left running (re-attached after a restart) is not, so a
// serving worker heard on the local channel that is no child of this hive is watched by the pid
// its heartbeat gives, looked at once a second. The queen drops a reported worker from its live
// table but keeps it this hive's, so a wrong report costs a moment, never the worker.
//
// Not reported: a worker that said its last word itself (a `stopped` heartbeat, as on SIGTERM), one
// this hive stops on the queen's behalf (worker_delete reports that, even when it ends with SIGKILL
// after draining), and one still loading, whose spawn job reports its failure.
import type { WorkerHeartbeat, WorkerState } from "../../shared/protocol/worker-heartbeat.js";
import { isZombieStat, procStatFields } from "../../shared/proc-stat.js";
import { troubleWords, workerLogFile } from "../processes/worker-log.js";

/** How often the watched workers' pids are looked at, ms. */
const DEFAULT_POLL_MS = 1000;
/** States in which a worker is watched: it serves, and its end is news to the queen. */
const WATCHED_STATES: ReadonlySet<WorkerState> = new Set(["ready", "busy", "draining"]);

export interface WorkerExit {
  workerId: string;
  pid: number;
  /** How it ended, for a person: the exit status when known, and what its log says went wrong. */
  detail: string;
}

export interface WorkerExitsOptions {
  /** Called once per worker that exited while watched. */
  onExit: (exit: WorkerExit) => void;
  /** The folder of the workers' log files, whose last lines say why one died. */
  logDir: string;
  pollMs?: number;
  /** Whether a pid is surely gone; default isGone. */
  hasExited?: (pid: number) => boolean;
}

export class WorkerExits {
  /** Watched workers' pids, by worker id. */
  private readonly watched = new Map<string, number>();
  /** Watched workers that are this hive's children: their exit event reports them, not the poll. */
  private readonly children = new Set<string>();
  /** Workers the hive is stopping itself: not watched (draining or not) until the stop is over. */
  private readonly released = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;

  constructor(private readonly options: WorkerExitsOptions) {}

  /** Every heartbeat the local channel accepts. */
  observe(heartbeat: WorkerHeartbeat): void {
    const { workerId, state } = heartbeat;
    if (this.stopped) return;
    if (!WATCHED_STATES.has(state)) {
      this.forget(workerId);
      return;
    }
    // A worker the hive is stopping drains first, and its heartbeats say so: still not watched.
    if (this.released.has(workerId)) return;
    this.watched.set(workerId, heartbeat.pid);
    this.timer ??= setInterval(() => void this.poll(), this.options.pollMs ?? DEFAULT_POLL_MS).unref();
  }

  /**
   * The hive is stopping the worker itself (worker_delete): how that ended is the job's to say.
   * Returns the end of that: a worker still running then (the stop failed) is watched again at
   * its next heartbeat.
   */
  release(workerId: string): () => void {
    this.watched.delete(workerId);
    this.released.add(workerId);
    return () => this.released.delete(workerId);
  }

  /**
   * The watched `workerId` is this hive's child: its exit event will call childExited, with how it
   * ended, so the poll leaves it be (it could see the zombie first and say less).
   */
  adoptChild(workerId: string): void {
    this.children.add(workerId);
  }

  /** A child of this hive exited (its `exit` event); `how` says how (`worker exited (SIGKILL)`). */
  childExited(workerId: string, pid: number, how: string): void {
    if (this.watched.get(workerId) !== pid) return; // not watched (stopped, released, never ready), or another process of it
    this.forget(workerId);
    void this.report(workerId, pid, how);
  }

  /** Stops watching: a hive that stops reports nothing more. */
  stop(): void {
    this.stopped = true;
    this.watched.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Tells of an exit, with what the worker's log says went wrong. */
  private async report(workerId: string, pid: number, how: string): Promise<void> {
    const logFile = workerLogFile(this.options.logDir, workerId);
    const words = await troubleWords(logFile);
    if (this.stopped) return;
    this.options.onExit({ workerId, pid, detail: `${how}: ${words} (log: ${logFile})` });
  }

  private forget(workerId: string): void {
    this.watched.delete(workerId);
    this.children.delete(workerId);
    this.released.delete(workerId);
  }

  private async poll(): Promise<void> {
    if (this.polling) return; // reading a log's last words must not stack up
    this.polling = true;
    try {
      const gone = this.options.hasExited ?? isGone;
      for (const [workerId, pid] of [...this.watched]) {
        // Still watched by that pid (a `stopped` heartbeat may have come during a last-words read), and no child.
        if (this.watched.get(workerId) !== pid || this.children.has(workerId) || !gone(pid)) continue;
        this.forget(workerId);
        await this.report(workerId, pid, `worker process ${pid} is gone`);
      }
    } finally {
      this.polling = false;
    }
    if (this.watched.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * Whether a watched pid is surely gone: no such process (ESRCH), or on Linux a zombie (an orphan
 * whose reaper does not reap, as a Node PID 1 in a container does not). Anything uncertain (EPERM,
 * /proc unreadable) is not gone: a wrong report would cost the worker its place for a moment, and
 * three missed heartbeats still catch a worker that is really gone.
 */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  if (process.platform !== "linux") return false; // orphans are reaped there (launchd), and Windows has no zombies
  const fields = procStatFields(pid);
  return fields !== undefined && isZombieStat(fields);
}
