// The worker_delete operation: stops one of this machine's workers by the PID the queen knows,
// after checking that the PID really is that worker (a PID alone proves nothing). A worker whose
// PID no longer runs exited already: what was asked for is so, and the job ends done.
import { RbeeError } from "../../shared/errors.js";
import type { HiveOperation } from "../../shared/protocol/job-operation.js";
import { stopProcess } from "../processes/stop-process.js";
import { checkWorkerProcess, type WorkerInstallations } from "../processes/worker-process-check.js";
import type { JobContext } from "./job-context.js";

export async function runWorkerDelete(
  operation: Extract<HiveOperation, { operation: "worker_delete" }>,
  context: JobContext,
  settings: {
    stopGraceMs: number;
    installations: WorkerInstallations;
    /** Called before it is stopped, its result once the stop is over: its exit is this job's to report (as deleted), not news of a crash. */
    releaseWatch: (workerId: string) => () => void;
  },
): Promise<void> {
  const { workerId, pid } = operation;
  context.narrate("verify", `checking that pid ${pid} is rbee worker ${workerId}`);
  const check = await checkWorkerProcess(pid, workerId, settings.installations);
  if (!check.ok && !check.running) {
    context.narrate("exited", `worker ${workerId} (pid ${pid}) is not running: it exited already`);
    context.data({ worker_id: workerId, pid, forced: false });
    return;
  }
  if (!check.ok) {
    throw new RbeeError(403, "not_an_rbee_worker", `Refused to stop pid ${pid}: ${check.reason}. GET /v1/workers lists the live workers and their pids.`);
  }
  context.signal.throwIfAborted();
  const released = settings.releaseWatch(workerId);
  const { forced, elapsedMs, how } = await stopProcess(pid, settings.stopGraceMs, context.signal, (action, message) =>
    context.narrate(action, `worker ${workerId}: ${message}`),
  ).finally(released);
  context.narrate("exited", `worker ${workerId} (pid ${pid}) exited after ${elapsedMs} ms${forced ? `, ${how}` : ` ${how}`}`);
  context.data({ worker_id: workerId, pid, forced });
}
