// ProgressPrinter is how the hive shows what its jobs download: on a terminal one live bar,
// redrawn in place, that log lines never garble; in a log file or journal, a plain line every
// few seconds or tenth of the way, and a final line per job. Every hive log line goes through it.
import { formatFinal, formatProgress, type ProgressState } from "../../shared/progress-format.js";

/** Where the printer writes: process.stdout, or a fake in tests. */
export interface ProgressOutput {
  write(text: string): unknown;
  /** True on a terminal, where the bar is redrawn in place. */
  isTTY?: boolean;
  /** Terminal width; a longer bar line would wrap, and `\r` would then redraw only its tail. */
  columns?: number;
}

export const DEFAULTS = {
  /** Least time between two redraws of the live bar, ms (about 10 per second). */
  ttyRedrawIntervalMs: 100,
  /** Most time between two plain progress lines of one job when not on a terminal, ms. */
  plainLineIntervalMs: 5000,
  /** A plain line is also printed each time a job crosses another this many percent. */
  plainLineStepPercent: 10,
} as const;

/** Erases the rest of the line, where a longer earlier bar left characters. */
const CLEAR_TO_END = "\x1b[K";

interface JobProgress extends ProgressState {
  /** When this job's last plain line was printed, ms; plain mode only. */
  printedMs: number;
  /** Which step (tenth) its last plain line was in; -1 when the total is unknown. */
  printedStep: number;
}

export class ProgressPrinter {
  private readonly jobs = new Map<string, JobProgress>();
  /** The job whose bar is on the unfinished last line of a terminal; undefined when none is. */
  private liveJobId: string | undefined;
  private drawnMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly out: ProgressOutput,
    private readonly nowMs: () => number = () => Date.now(),
    /** Where plain progress lines go off a terminal; default straight to `out`. The hive logs them, so a JSON log stays JSON. */
    private readonly plainLine: (line: string) => void = (line) => out.write(`${line}\n`),
  ) {}

  progress(jobId: string, label: string, bytes: number, total: number | null, bytesPerSecond: number | null): void {
    const now = this.nowMs();
    const known = this.jobs.get(jobId);
    const job: JobProgress = known ?? { jobId, label, bytes, total, bytesPerSecond, startedMs: now, printedMs: now, printedStep: -1 };
    Object.assign(job, { label, bytes, total, bytesPerSecond });
    this.jobs.set(jobId, job);
    if (this.out.isTTY === true) {
      // A job's first update and a bar that is not showing are drawn at once; the rest wait their turn.
      if (known === undefined || this.liveJobId === undefined || now - this.drawnMs >= DEFAULTS.ttyRedrawIntervalMs) this.draw(job, now);
      return;
    }
    const step = this.stepOf(job);
    if (known === undefined || now - job.printedMs >= DEFAULTS.plainLineIntervalMs || step > job.printedStep) {
      this.plainLine(formatProgress(job, false));
      job.printedMs = now;
      job.printedStep = step;
    }
  }

  /** The job finished (done, error or cancelled): its last state becomes a line of its own. */
  end(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) return;
    this.jobs.delete(jobId);
    const tty = this.out.isTTY === true;
    const line = this.fit(formatFinal(job, tty, this.nowMs()));
    if (!tty) {
      this.plainLine(line);
      return;
    }
    if (this.liveJobId === jobId) this.out.write(`\r${line}${CLEAR_TO_END}\n`);
    else this.out.write(`${this.finishLiveLine()}${line}\n`);
    this.liveJobId = undefined;
  }

  /** Prints an ordinary log line, first ending a live bar so the two never share a line. */
  log(line: string): void {
    this.out.write(`${this.finishLiveLine()}${line}\n`);
  }

  private draw(job: JobProgress, now: number): void {
    this.out.write(`\r${this.fit(formatProgress(job, true))}${CLEAR_TO_END}`);
    this.liveJobId = job.jobId;
    this.drawnMs = now;
  }

  /** A newline when a bar is live (it stays on screen as it was), else nothing. */
  private finishLiveLine(): string {
    if (this.liveJobId === undefined) return "";
    this.liveJobId = undefined;
    return "\n";
  }

  private stepOf(job: JobProgress): number {
    if (job.total === null || job.total === 0) return -1;
    return Math.floor((Math.min(1, job.bytes / job.total) * 100) / DEFAULTS.plainLineStepPercent);
  }

  private fit(line: string): string {
    const columns = this.out.columns;
    // One column short: a line exactly as wide as the terminal wraps on some terminals.
    return columns !== undefined && columns > 1 && line.length >= columns ? line.slice(0, columns - 1) : line;
  }
}
