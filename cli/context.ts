// What every `rbee` command gets: the queen client (resolved from config and environment only
// when a command needs it, so `rbee login` and `--help` work without one) and whether output is live.
import { answerTimeoutMs, resolveTarget } from "./config.js";
import { CliError, EXIT } from "./cli-error.js";
import { withCommandHint } from "./command-hints.js";
import { describeCancel, followJob, type JobOutcome } from "./job-follow.js";
import { QueenApi } from "./queen-api.js";
import { z } from "zod";

const SubmittedJob = z.object({ job_id: z.string(), stream_url: z.string() });

export class CliContext {
  private api: QueenApi | undefined;

  constructor(readonly env: NodeJS.ProcessEnv) {}

  async queen(): Promise<QueenApi> {
    this.api ??= new QueenApi(await resolveTarget(this.env), answerTimeoutMs(this.env));
    return this.api;
  }

  /** Whether stdout is a terminal: a live bar there, plain lines for a pipe or a log. */
  get live(): boolean {
    return process.stdout.isTTY === true;
  }

  /** Submits a job (POST /v1/jobs) and answers its id. */
  async submitJob(operation: Record<string, unknown>): Promise<string> {
    const api = await this.queen();
    return (await api.call(SubmittedJob, "POST", "/v1/jobs", { body: operation })).job_id;
  }

  /**
   * Follows a job to its end; a job that failed or was cancelled is a failure (exit 1). Ctrl-C
   * leaves the job running on its hive and says how to cancel or resume watching it.
   */
  async waitForJob(jobId: string, label: string, verbose: boolean): Promise<JobOutcome> {
    const api = await this.queen();
    const stopWatching = new AbortController();
    const onInterrupt = () => {
      stopWatching.abort();
      process.stderr.write(`\nstopped watching; job ${jobId} goes on. Follow it with rbee jobs watch ${jobId}, stop it with rbee jobs cancel ${jobId}\n`);
      process.exit(130);
    };
    process.once("SIGINT", onInterrupt);
    try {
      const outcome = await followJob(api, jobId, { label, live: this.live, verbose, signal: stopWatching.signal });
      if (outcome.end.type === "error") throw new CliError(EXIT.failed, outcome.end.code, withCommandHint(`job ${jobId} failed: ${outcome.end.message}`));
      if (outcome.end.type === "cancelled") throw new CliError(EXIT.failed, "job_cancelled", `job ${jobId} was ${describeCancel(jobId, outcome.end.message)}`);
      return outcome;
    } finally {
      process.off("SIGINT", onInterrupt);
    }
  }
}
