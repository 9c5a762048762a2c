// What an operation gets while it runs as a job: the signal that says it was cancelled, and
// ways to narrate, report progress and hand back data. The runner turns these into job_event
// frames; operations never touch the queen connection themselves.

export interface JobContext {
  jobId: string;
  /** Aborted when the queen cancels the job, or with HiveStopping when the hive stops. */
  signal: AbortSignal;
  /** One step a person would want to read, e.g. narrate("sigterm", "sent SIGTERM to pid 42"). */
  narrate(action: string, message: string): void;
  progress(bytes: number, total: number | null, bytesPerSecond?: number): void;
  /** The operation's result for programs. */
  data(payload: Record<string, unknown>): void;
}

