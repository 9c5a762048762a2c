// Stops a process the way a worker expects: SIGTERM lets it drain, and if it is still there
// after the grace period, SIGKILL. Says which it took.
import { RbeeError } from "../../shared/errors.js";
import { hasExited } from "./has-exited.js";

/** How often the hive looks whether the process exited, ms. */
const EXIT_POLL_MS = 100;
/** How long to wait for the kernel to remove a SIGKILLed process, ms. */
const KILL_WAIT_MS = 5000;

export interface StopOutcome {
  /** True when SIGTERM was not enough and SIGKILL was sent. */
  forced: boolean;
  elapsedMs: number;
}

export async function stopProcess(
  pid: number,
  graceMs: number,
  signal: AbortSignal,
  narrate: (action: "sigterm" | "sigkill", message: string) => void,
): Promise<StopOutcome> {
  const startedAt = Date.now();
  process.kill(pid, "SIGTERM");
  narrate("sigterm", `sent SIGTERM to pid ${pid}; waiting up to ${graceMs} ms for it to drain and exit`);
  if (await waitForExit(pid, graceMs, signal)) return { forced: false, elapsedMs: Date.now() - startedAt };
  narrate("sigkill", `pid ${pid} still runs after ${graceMs} ms; sending SIGKILL`);
  process.kill(pid, "SIGKILL");
  if (!(await waitForExit(pid, KILL_WAIT_MS, signal))) {
    throw new RbeeError(500, "worker_not_stopped", `pid ${pid} survived SIGKILL for ${KILL_WAIT_MS} ms; check the machine (a process stuck in the kernel?)`);
  }
  return { forced: true, elapsedMs: Date.now() - startedAt };
}

async function waitForExit(pid: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await hasExited(pid))) {
    signal.throwIfAborted();
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
  }
  return true;
}
