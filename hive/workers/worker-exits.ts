// Notices this hive's serving workers exiting, so that the queen hears of it at once rather than
// after three missed heartbeats (~15 s, in which a request placed on the worker fails over and the
// worker stays listed). A worker this hive spawned is its child, and its exit is an event; one a
// previous hive left running (re-attached after a restart) is not, so every serving worker heard
// on the local channel is also watched by the pid its heartbeat gives, looked at once a second.
//
// Not reported: a worker that said its last word itself (a `stopped` heartbeat, as on SIGTERM), one
// this hive stops on the queen's behalf (worker_delete reports that), and one still loading, whose
// spawn job reports its failure.
import type { WorkerHeartbeat, WorkerState } from "../../shared/protocol/worker-heartbeat.js";
import { hasExited } from "../processes/has-exited.js";
import { lastWords, workerLogFile } from "../processes/worker-log.js";

/** How often the watched workers' pids are looked at, ms. */
const DEFAULT_POLL_MS = 1000;
/** States in which a worker is watched: it serves, and its end is news to the queen. */
const WATCHED_STATES: ReadonlySet<WorkerState> = new Set(["ready", "busy", "draining"]);

export interface WorkerExit {
  workerId: string;
  pid: number;
  /** How it ended, for a person: the exit status when known, and its log's last lines. */
  detail: string;
}

export interface WorkerExitsOptions {
  /** Called once per worker that exited while watched. */
  onExit: (exit: WorkerExit) => void;
  /** The folder of the workers' log files, whose last lines say why one died. */
  logDir: string;
  pollMs?: number;
  /** Whether a pid is gone; default isGone. */
  hasExited?: (pid: number) => Promise<boolean>;
}

export class WorkerExits {
  /** Watched workers' pids, by worker id. */
  private readonly watched = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;

  constructor(private readonly options: WorkerExitsOptions) {}

  /** Every heartbeat the local channel accepts. */
  observe(heartbeat: WorkerHeartbeat): void {
    if (this.stopped) return;
    if (!WATCHED_STATES.has(heartbeat.state)) {
      this.watched.delete(heartbeat.workerId);
      return;
    }
    this.watched.set(heartbeat.workerId, heartbeat.pid);
    this.timer ??= setInterval(() => void this.poll(), this.options.pollMs ?? DEFAULT_POLL_MS).unref();
  }

  /** The hive is stopping the worker itself (worker_delete): how that ended is the job's to say. */
  release(workerId: string): void {
    this.watched.delete(workerId);
  }

  /** A child of this hive exited (its `exit` event): reported now, with `detail` (its exit status and last words). */
  childExited(workerId: string, pid: number, detail: string): void {
    if (this.watched.get(workerId) !== pid) return;
    this.watched.delete(workerId);
    this.options.onExit({ workerId, pid, detail });
  }

  /** Stops watching: a hive that stops reports nothing more. */
  stop(): void {
    this.stopped = true;
    this.watched.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return; // a slow `ps` (macOS) must not stack up
    this.polling = true;
    try {
      const gone = this.options.hasExited ?? isGone;
      for (const [workerId, pid] of [...this.watched]) {
        if (!(await gone(pid))) continue;
        // Watched still, and by the same pid: nothing reported it meanwhile (childExited, a `stopped` heartbeat).
        if (this.watched.get(workerId) !== pid) continue;
        this.watched.delete(workerId);
        const logFile = workerLogFile(this.options.logDir, workerId);
        const words = await lastWords(logFile);
        if (this.stopped) return;
        this.options.onExit({ workerId, pid, detail: `worker process ${pid} is gone: ${words} (log: ${logFile})` });
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
 * Whether a watched pid is gone. On Linux hasExited reads /proc, which is cheap and counts a zombie
 * (an orphan whose reaper does not reap, as a Node PID 1 in a container does not) as gone.
 * Elsewhere it would run `ps` for each worker every second; there `kill(pid, 0)` is enough, since
 * orphans are reaped (launchd) and Windows has no zombies.
 */
function isGone(pid: number): Promise<boolean> {
  if (process.platform === "linux") return hasExited(pid);
  try {
    process.kill(pid, 0);
    return Promise.resolve(false);
  } catch (error) {
    // EPERM: the pid is another user's process now, so not this hive's worker.
    return Promise.resolve(["ESRCH", "EPERM"].includes((error as NodeJS.ErrnoException).code ?? ""));
  }
}
