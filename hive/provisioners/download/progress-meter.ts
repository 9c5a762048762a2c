// Throttles a download's progress reports: a job's narration stream would drown in one report per
// network chunk (thousands a second), so at most one per interval goes out, plus always the last.
export type ProgressReport = (bytes: number, total: number | null, bytesPerSecond: number) => void;

/** Least time between two reports, ms: four a second reads as live without flooding the stream. */
export const PROGRESS_INTERVAL_MS = 250;

export class ProgressMeter {
  private lastAt: number;
  private lastBytes: number;

  constructor(
    private readonly report: ProgressReport,
    /** Bytes already there when this meter started (a resumed part), so the rate counts only new ones. */
    startBytes: number,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.lastAt = now();
    this.lastBytes = startBytes;
  }

  /** Reports when the interval has passed since the last report. */
  update(bytes: number, total: number | null): void {
    if (this.now() - this.lastAt >= this.intervalMs) this.emit(bytes, total);
  }

  /** Reports now, whatever the interval: the final count must always be seen. */
  finish(bytes: number, total: number | null): void {
    this.emit(bytes, total);
  }

  /** Starts counting the rate afresh, e.g. after a retry wait that should not drag the rate down. */
  restart(bytes: number): void {
    this.lastAt = this.now();
    this.lastBytes = bytes;
  }

  private emit(bytes: number, total: number | null): void {
    const now = this.now();
    const seconds = (now - this.lastAt) / 1000;
    const rate = seconds > 0 ? Math.max(0, Math.round((bytes - this.lastBytes) / seconds)) : 0;
    this.report(bytes, total, rate);
    this.lastAt = now;
    this.lastBytes = bytes;
  }
}
