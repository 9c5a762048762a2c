// `rbee jobs ls|watch|cancel`: the jobs the queen ran on hives, followed live.
import type { Command } from "commander";
import type { z } from "zod";
import { JobStatus } from "../../shared/protocol/job-event.js";
import type { CliContext } from "../context.js";
import { choiceOption, positiveIntegerOption } from "../flag-values.js";
import { listAll } from "../list-pages.js";
import { printJson, printListing } from "../output.js";
import { JobAccepted, JobView } from "../queen-views.js";

/** Jobs `rbee jobs ls` shows without --limit: the queen's own page size for GET /v1/jobs. */
const DEFAULT_JOB_LIMIT = 50;

function jobRow(job: z.infer<typeof JobView>) {
  return { id: job.id, operation: job.operation, hive: job.hive, status: job.status, created: job.created_at, ended: job.ended_at };
}

export function registerJobs(program: Command, context: CliContext): void {
  const jobs = program.command("jobs").description("jobs the queen runs on hives: downloads, worker starts and stops");

  jobs
    .command("ls")
    .description("list jobs, newest first")
    .option("--hive <name>", "only this hive's jobs")
    .addOption(choiceOption("--status <status>", `only jobs in this state: ${JobStatus.options.join(", ")}`, JobStatus.options))
    .addOption(positiveIntegerOption("--limit <n>", "at most this many (default 50)"))
    .option("--json", "print JSON")
    .action(async (options: { hive?: string; status?: string; limit?: number; json?: boolean }) => {
      const query = { hive: options.hive, status: options.status, limit: options.limit?.toString() };
      const list = await listAll(await context.queen(), JobView, "/v1/jobs", { query, max: options.limit ?? DEFAULT_JOB_LIMIT });
      printListing(options.json === true, list, jobRow, "no jobs");
    });

  jobs
    .command("watch <id>")
    .description("follow a job to its end: its steps, and a progress bar (plain lines when not on a terminal)")
    .option("--json", "print the job's result as JSON at the end")
    .action(async (id: string, options: { json?: boolean }) => {
      const { data } = await context.waitForJob(id, id, options.json !== true);
      if (options.json) printJson(data ?? {});
    });

  jobs
    .command("cancel <id>")
    .description("cancel a running job down to its hive")
    .action(async (id: string) => {
      await (await context.queen()).call(JobAccepted, "DELETE", `/v1/jobs/${encodeURIComponent(id)}`);
      process.stdout.write(`cancelling job ${id}; rbee jobs watch ${id} shows when it stopped\n`);
    });
}
