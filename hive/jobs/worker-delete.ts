// The worker_delete operation: stops one of this machine's workers by the PID the queen knows,
// after checking that the PID really is that worker. SIGTERM lets it drain; if it is still
// there after the grace period, SIGKILL.
import { RbeeError } from "../../shared/errors.js";
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import { checkWorkerProcess, hasExited } from "../processes/worker-process-check.js";
import type { JobContext } from "./job-context.js";

/** How often the hive looks whether the worker exited, ms. */
const EXIT_POLL_MS = 100;
/** How long to wait for the kernel to remove a SIGKILLed process, ms. */
const KILL_WAIT_MS = 5000;

export async function runWorkerDelete(
  operation: Extract<HiveOperation, { operation: "worker_delete" }>,
  context: JobContext,
  settings: { stopGraceMs: number },
): Promise<void> {
  const { workerId, pid } = operation;
  context.narrate("verify", `checking that pid ${pid} is rbee worker ${workerId}`);
  const check = await checkWorkerProcess(pid, workerId);
  if (!check.ok) {
    throw new RbeeError(403, "not_an_rbee_worker", `Refused to stop pid ${pid}: ${check.reason}. GET /v1/workers lists the live workers and their pids.`);
  }
  context.signal.throwIfAborted();
  process.kill(pid, "SIGTERM");
  context.narrate("sigterm", `sent SIGTERM to worker ${workerId} (pid ${pid}); waiting up to ${settings.stopGraceMs} ms for it to drain and exit`);
  const startedAt = Date.now();
  let forced = false;
  if (!(await waitForExit(pid, settings.stopGraceMs, context.signal))) {
    forced = true;
    context.narrate("sigkill", `worker ${workerId} (pid ${pid}) still runs after ${settings.stopGraceMs} ms; sending SIGKILL`);
    process.kill(pid, "SIGKILL");
    if (!(await waitForExit(pid, KILL_WAIT_MS, context.signal))) {
      throw new RbeeError(500, "worker_not_stopped", `pid ${pid} survived SIGKILL for ${KILL_WAIT_MS} ms; check the machine (a process stuck in the kernel?)`);
    }
  }
  context.narrate("exited", `worker ${workerId} (pid ${pid}) exited after ${Date.now() - startedAt} ms${forced ? " (killed)" : ""}`);
  context.data({ worker_id: workerId, pid, forced });
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
