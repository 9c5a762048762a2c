// Stops the worker processes attached to one hive's local channel (`--hive-channel`), found in the
// process table: SIGTERM, then SIGKILL after the grace. A hive stopping with its workers
// (--stop-workers-on-exit) does it on its way out; npm start does it for a hive it gave up on,
// which can no longer stop them itself, so that no worker is left holding a model's memory; and a
// hive stops one the queen disowns (disowned-workers.ts).
import { describeError } from "../../shared/errors.js";
import { stopProcess } from "../processes/stop-process.js";
import { type FoundWorker, findWorkerProcesses, type WorkerInstallations } from "../processes/worker-process-check.js";

export async function stopChannelWorkers(
  channelUrl: string,
  installations: WorkerInstallations,
  graceMs: number,
  log: (line: string) => void,
  /** Only the worker of `workerId` (disowned-workers.ts), all of them when undefined; `announce` is told of each found before it is stopped. */
  only: { workerId?: string; announce?: (worker: FoundWorker) => void } = {},
): Promise<void> {
  const attached = (await findWorkerProcesses(installations)).filter((worker) => worker.hiveChannel === channelUrl && (only.workerId === undefined || worker.workerId === only.workerId));
  await Promise.all(
    attached.map(async (worker) => {
      const name = `worker ${worker.workerId ?? "?"} (pid ${worker.pid})`;
      only.announce?.(worker);
      try {
        const outcome = await stopProcess(worker.pid, graceMs, new AbortController().signal, () => {});
        log(`stopped ${name}${outcome.forced ? " with SIGKILL" : ""}`);
      } catch (error) {
        log(`could not stop ${name}: ${describeError(error)}`);
      }
    }),
  );
}
