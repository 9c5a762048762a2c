// The jobs a HiveSession has handed to its hive and not yet seen end, kept in the session's
// Durable Object storage so they outlive hibernation and a queen restart. This set is what
// makes "a hive can only speak for its own jobs" hold: an event for a job not in it is refused.
import { HiveOperation } from "../../shared/protocol/job-operation.js";

const JOB_KEY_PREFIX = "job:";

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

  async ids(): Promise<string[]> {
    const stored = await this.storage.list({ prefix: JOB_KEY_PREFIX });
    return [...stored.keys()].map((key) => key.slice(JOB_KEY_PREFIX.length));
  }
}
