// Workers of this hive that the queen refuses to know (`worker_not_issued`): their ids were
// forgotten while the hive was away (another process under its name said hello without them), or
// another queen started them. Refused for good, such a worker would hold its model's memory and
// log a refusal at both ends every heartbeat for ever, while the queen starts another worker in
// its place. Refused REFUSALS_BEFORE_STOP times within REFUSAL_WINDOW_MS (not one refusal, which a
// race with a spawn's job could cause), it is stopped, and the log says why, once.
import { describeError } from "../../shared/errors.js";
import type { WorkerInstallations } from "../processes/worker-process-check.js";
import { stopChannelWorkers } from "./stop-channel-workers.js";

const REFUSALS_BEFORE_STOP = 3;
const REFUSAL_WINDOW_MS = 60_000;

export interface DisownedWorkersOptions {
  installations: WorkerInstallations;
  /** This hive's local channel: only its own workers are stopped. */
  channelUrl: () => string | undefined;
  graceMs: number;
  log: (line: string) => void;
  now?: () => number;
}

export class DisownedWorkers {
  /** Worker id → when the queen refused its heartbeats, within the window. */
  private readonly refusals = new Map<string, number[]>();
  private readonly stopping = new Set<string>();

  constructor(private readonly options: DisownedWorkersOptions) {}

  /** The queen refused a heartbeat of `workerId` as not issued to this hive. */
  refused(workerId: string, why: string): void {
    if (this.stopping.has(workerId)) return;
    const now = this.options.now?.() ?? Date.now();
    const recent = (this.refusals.get(workerId) ?? []).filter((atMs) => now - atMs < REFUSAL_WINDOW_MS);
    recent.push(now);
    this.refusals.set(workerId, recent);
    if (recent.length < REFUSALS_BEFORE_STOP) return;
    this.refusals.delete(workerId);
    this.stopping.add(workerId);
    void this.stop(workerId, why).finally(() => this.stopping.delete(workerId));
  }

  private async stop(workerId: string, why: string): Promise<void> {
    const { log, installations, graceMs } = this.options;
    const channelUrl = this.options.channelUrl();
    if (channelUrl === undefined) return;
    const announce = ({ pid }: { pid: number }) => log(`the queen refuses worker ${workerId} (${why}): stopping it (pid ${pid}), so that it holds no memory for nothing`);
    try {
      await stopChannelWorkers(channelUrl, installations, graceMs, log, { workerId, announce });
    } catch (error) {
      log(`could not stop worker ${workerId}, which the queen refuses: ${describeError(error)}`);
    }
  }
}
