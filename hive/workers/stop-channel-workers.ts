// Stops the worker processes attached to one hive's local channel (`--hive-channel`), found in the
// process table: SIGTERM, then SIGKILL after the grace. A hive stopping with its workers
// (--stop-workers-on-exit) does it on its way out; npm start does it for a hive it gave up on,
// which can no longer stop them itself, so that no worker is left holding a model's memory.
import { describeError } from "../../shared/errors.js";
import { stopProcess } from "../processes/stop-process.js";
import { findWorkerProcesses, type WorkerInstallations } from "../processes/worker-process-check.js";

export async function stopChannelWorkers(channelUrl: string, installations: WorkerInstallations, graceMs: number, log: (line: string) => void): Promise<void> {
  const attached = (await findWorkerProcesses(installations)).filter((worker) => worker.hiveChannel === channelUrl);
  await Promise.all(
    attached.map(async (worker) => {
      const name = `worker ${worker.workerId ?? "?"} (pid ${worker.pid})`;
      try {
        const outcome = await stopProcess(worker.pid, graceMs, new AbortController().signal, () => {});
        log(`stopped ${name}${outcome.forced ? " with SIGKILL" : ""}`);
      } catch (error) {
        log(`could not stop ${name}: ${describeError(error)}`);
      }
    }),
  );
}
