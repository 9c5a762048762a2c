// What the hive's own process does when something goes wrong outside every handler, installed by
// the CLI (hive/cli.ts): an error nobody caught must not silently kill a daemon that relays
// answers and runs jobs, nor leave it half-stopped.
//
// - An uncaught exception may have left any synchronous change half done: the hive logs it with
//   its stack, stops cleanly (jobs recorded as interrupted, the queen told) and exits 1 for its
//   supervisor to restart it. Its workers run on untouched and the next hive re-attaches them.
// - An unhandled rejection is logged and the hive keeps running: each job and relay settles its
//   own errors, so a stray rejection comes from a path that has already failed on its own (a log
//   write, a timer's callback), and exiting would cut every answer in flight for it.

/** Longest a crashing hive waits for its clean stop before it exits anyway, ms. */
const CRASH_STOP_TIMEOUT_MS = 30_000;

export interface CrashGuardOptions {
  log: (line: string) => void;
  /** Stops the hive cleanly (Hive.stop). */
  stop: () => Promise<void>;
  /** Ends the process; process.exit in the CLI. */
  exit: (code: number) => void;
  /** Default CRASH_STOP_TIMEOUT_MS. */
  stopTimeoutMs?: number;
}

/** Installs the process-level handlers on `target` (the hive's `process`). */
export function installCrashGuard(target: NodeJS.Process, options: CrashGuardOptions): void {
  let crashed = false;
  target.on("uncaughtException", (error) => {
    options.log(`rbee-hive: uncaught exception (a bug), stopping: ${describe(error)}`);
    if (crashed) {
      options.exit(1); // a second one while stopping: the stop itself is broken
      return;
    }
    crashed = true;
    const timer = setTimeout(() => {
      options.log(`rbee-hive: not stopped ${options.stopTimeoutMs ?? CRASH_STOP_TIMEOUT_MS} ms after the crash; exiting anyway`);
      options.exit(1);
    }, options.stopTimeoutMs ?? CRASH_STOP_TIMEOUT_MS);
    timer.unref();
    void stopThenExit(options.stop, options.log, options.exit, 1);
  });
  target.on("unhandledRejection", (reason) => {
    options.log(`rbee-hive: unhandled promise rejection (a bug; the hive keeps running): ${describe(reason)}`);
  });
}

/** Stops, then exits with `code`, or with 1 after logging why the stop failed; never rejects. */
export async function stopThenExit(stop: () => Promise<void>, log: (line: string) => void, exit: (code: number) => void, code: number): Promise<void> {
  try {
    await stop();
  } catch (error) {
    log(`rbee-hive: could not stop cleanly: ${describe(error)}`);
    exit(1);
    return;
  }
  exit(code);
}

/** The stack where there is one: a crash is read by whoever fixes it. */
function describe(value: unknown): string {
  return value instanceof Error ? (value.stack ?? value.message) : String(value);
}
