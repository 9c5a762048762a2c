// Stops a process the way a worker expects: SIGTERM lets it drain, and if it is still there
// after the grace period, SIGKILL. Says which it took. A stopped process (SIGSTOP, a debugger,
// Ctrl-Z) holds SIGTERM until it is continued, so SIGCONT follows: it drains at once instead of
// waiting out the grace for SIGKILL (the queen stops hung workers this way); to a running process
// SIGCONT is nothing. Windows has no signals between processes:
// Node's kill() there is TerminateProcess whatever the signal, so the worker is ended at once,
// without a drain, and the narration says so.
import { RbeeError } from "../../shared/errors.js";
import { hasExited } from "./has-exited.js";
import type { ProcessTableContext } from "./process-table.js";

/** How often the hive looks whether the process exited, ms. */
const EXIT_POLL_MS = 100;
/** How long to wait for the kernel to remove a SIGKILLed process, ms. */
const KILL_WAIT_MS = 5000;

export interface StopOutcome {
  /** True when SIGTERM was not enough and SIGKILL was sent (or, on Windows, always: no drain there). */
  forced: boolean;
  elapsedMs: number;
  /** How it ended, for a person: "on SIGTERM", "killed with SIGKILL after ignoring SIGTERM", … */
  how: string;
}

export async function stopProcess(
  pid: number,
  graceMs: number,
  signal: AbortSignal,
  narrate: (action: "sigterm" | "sigkill", message: string) => void,
  context: ProcessTableContext & { kill?: (pid: number, signal: NodeJS.Signals) => void } = {},
): Promise<StopOutcome> {
  const startedAt = Date.now();
  const kill = context.kill ?? ((target: number, name: NodeJS.Signals) => process.kill(target, name));
  const windows = (context.platform ?? process.platform) === "win32";
  if (windows) {
    narrate("sigkill", `Windows has no SIGTERM: ending pid ${pid} at once (TerminateProcess), without a drain`);
    kill(pid, "SIGKILL");
  } else {
    kill(pid, "SIGTERM");
    try {
      kill(pid, "SIGCONT");
    } catch {
      // It ended on SIGTERM already, and was reaped: nothing left to continue.
    }
    narrate("sigterm", `sent SIGTERM to pid ${pid}; waiting up to ${graceMs} ms for it to drain and exit`);
    if (await waitForExit(pid, graceMs, signal, context)) return { forced: false, elapsedMs: Date.now() - startedAt, how: "on SIGTERM" };
    narrate("sigkill", `pid ${pid} still runs after ${graceMs} ms; sending SIGKILL`);
    kill(pid, "SIGKILL");
  }
  if (!(await waitForExit(pid, KILL_WAIT_MS, signal, context))) {
    throw new RbeeError(500, "worker_not_stopped", `pid ${pid} survived SIGKILL for ${KILL_WAIT_MS} ms; check the machine (a process stuck in the kernel?)`);
  }
  const how = windows ? "ended at once (Windows has no SIGTERM to drain on)" : "killed with SIGKILL after ignoring SIGTERM";
  return { forced: true, elapsedMs: Date.now() - startedAt, how };
}

async function waitForExit(pid: number, timeoutMs: number, signal: AbortSignal, context: ProcessTableContext): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await hasExited(pid, context))) {
    signal.throwIfAborted();
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
  }
  return true;
}
