// The jobs a HiveSession has handed to its hive and not yet seen end, kept in the session's
// Durable Object storage so they outlive hibernation and a queen restart. This set is what
// makes "a hive can only speak for its own jobs" hold: an event for a job not in it is refused.
// It also remembers since when the hive has been away, so its jobs outlive a short blip (the
// hive replays their events) but not a hive that never comes back.
import { z } from "zod";
import { HiveOperation } from "../../shared/protocol/job-operation.js";

const JOB_KEY_PREFIX = "job:";
const OFFLINE_KEY = "offline";

const Offline = z.object({ hiveName: z.string(), sinceMs: z.number() });
export type Offline = z.infer<typeof Offline>;

export class HiveJobs {
  constructor(private readonly storage: DurableObjectStorage) {}

  async add(jobId: string, operation: HiveOperation): Promise<void> {
    await this.storage.put(JOB_KEY_PREFIX + jobId, operation);
  }

  /** The job's operation, or undefined when this hive was never given the job (or it ended). */
  async get(jobId: string): Promise<HiveOperation | undefined> {
    const parsed = HiveOperation.safeParse(await this.storage.get(JOB_KEY_PREFIX + jobId));
    return parsed.success ? parsed.data : undefined;
  }

  async remove(jobId: string): Promise<void> {
    await this.storage.delete(JOB_KEY_PREFIX + jobId);
  }

  /** Notes that the hive went away (keeps the first time if it is away already). */
  async markOffline(hiveName: string, sinceMs: number): Promise<void> {
    if ((await this.offline()) === undefined) await this.storage.put(OFFLINE_KEY, { hiveName, sinceMs } satisfies Offline);
  }

  async clearOffline(): Promise<void> {
    await this.storage.delete(OFFLINE_KEY);
  }

  /** Since when the hive has been away, undefined while it is connected (or was never seen leave). */
  async offline(): Promise<Offline | undefined> {
    const parsed = Offline.safeParse(await this.storage.get(OFFLINE_KEY));
    return parsed.success ? parsed.data : undefined;
  }

  /** The workers a running worker_delete job is stopping: their silence is their stopping, not a fault. */
  async deletingWorkers(): Promise<Set<string>> {
    const deleting = new Set<string>();
    for (const value of (await this.storage.list({ prefix: JOB_KEY_PREFIX })).values()) {
      const parsed = HiveOperation.safeParse(value);
      if (parsed.success && parsed.data.operation === "worker_delete") deleting.add(parsed.data.workerId);
    }
    return deleting;
  }

  async ids(): Promise<string[]> {
    const stored = await this.storage.list({ prefix: JOB_KEY_PREFIX });
    return [...stored.keys()].map((key) => key.slice(JOB_KEY_PREFIX.length));
  }
}
