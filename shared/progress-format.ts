// Turns a job's download progress into one line of text (the hive's ProgressPrinter, the rbee CLI): sizes and rates in
// binary units (what `ls -lh` and model cards use), a percentage, a bar and the time left.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** Width of the `[#####-----]` bar, in characters between the brackets. */
export const BAR_WIDTH = 10;

export interface ProgressState {
  jobId: string;
  label: string;
  bytes: number;
  /** Null when the size is not known (no Content-Length). */
  total: number | null;
  /** Null until the job has a rate to report. */
  bytesPerSecond: number | null;
  /** When the job's first progress arrived, ms; the final line says how long it took. */
  startedMs: number;
}

/** `job_abc model_download [#####-----] 45% 12.3/27.0 MiB 5.1 MiB/s ETA 3s` (bar only when asked). */
export function formatProgress(state: ProgressState, withBar: boolean): string {
  const parts = [...head(state, withBar)];
  if (state.bytesPerSecond !== null && state.bytesPerSecond > 0) {
    parts.push(`${formatBytes(state.bytesPerSecond)}/s`);
    if (state.total !== null && state.total > state.bytes) parts.push(`ETA ${formatDuration(((state.total - state.bytes) / state.bytesPerSecond) * 1000)}`);
  }
  return parts.join(" ");
}

/** `job_abc model_download [##########] 100% 27.0/27.0 MiB in 6s`, for when the job ends. */
export function formatFinal(state: ProgressState, withBar: boolean, nowMs: number): string {
  return [...head(state, withBar), `in ${formatDuration(nowMs - state.startedMs)}`].join(" ");
}

function head(state: ProgressState, withBar: boolean): string[] {
  // Job ids and labels come from the queen; a newline in one would break the one-line bar.
  const parts = [printable(state.jobId), printable(state.label)];
  if (state.total === null) return [...parts, formatBytes(state.bytes)];
  const fraction = state.total === 0 ? 1 : Math.min(1, state.bytes / state.total);
  if (withBar) {
    const filled = Math.floor(fraction * BAR_WIDTH);
    parts.push(`[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`);
  }
  // Rounded down, so 100% means done rather than 99.6%.
  parts.push(`${Math.floor(fraction * 100)}%`, formatBytePair(state.bytes, state.total));
  return parts;
}

/** `512 B`, `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  const unit = unitFor(bytes);
  return unit === 0 ? `${Math.round(bytes)} B` : `${(bytes / 1024 ** unit).toFixed(1)} ${UNITS[unit]}`;
}

/** `12.3/27.0 MiB`: both in the total's unit, so the two numbers compare at a glance. */
function formatBytePair(bytes: number, total: number): string {
  const unit = unitFor(total);
  const scaled = (value: number) => (unit === 0 ? String(Math.round(value)) : (value / 1024 ** unit).toFixed(1));
  return `${scaled(bytes)}/${scaled(total)} ${UNITS[unit]}`;
}

function unitFor(bytes: number): number {
  let unit = 0;
  while (unit < UNITS.length - 1 && Math.abs(bytes) >= 1024 ** (unit + 1)) unit += 1;
  return unit;
}

/** `3s`, `1m05s`, `2h03m`; rounded up, so a time left never reads 0s while bytes are missing. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, "?").slice(0, 80);
}
