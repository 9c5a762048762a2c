// `rbee workers ls|get|start|stop`: the workers the queen's registry knows, started and stopped
// as jobs on their hive.
import type { Command } from "commander";
import type { z } from "zod";
import { isModelSource, modelNameFromSource } from "../../shared/models/model-name.js";
import { UsageError } from "../../shared/usage-error.js";
import type { CliContext } from "../context.js";
import { listAll } from "../list-pages.js";
import { printDetails, printJson, printListing } from "../output.js";
import { JobAccepted, SpawnedWorker, WorkerView } from "../queen-views.js";

/**
 * How long `rbee workers start` waits for its answer: POST /v1/workers holds the request open
 * until the hive has the worker loaded, for up to 300 s (queen/routes/workers.ts), then answers
 * with the job to follow; the CLI's usual deadline would cut that short.
 */
const SPAWN_ANSWER_TIMEOUT_MS = 330_000;

function workerRow(worker: z.infer<typeof WorkerView>) {
  return {
    id: worker.id,
    hive: worker.hive,
    model: worker.model,
    state: worker.state,
    slots: `${worker.slots_busy}/${worker.slots_total}`,
    device: worker.device,
    "tokens/s": worker.tokens_per_second.toFixed(1),
  };
}

/** The name clients use and the source the hive loads, from `--model` and `--source`. */
export function spawnTarget(model: string, source: string | undefined): { model: string; source: string } {
  if (source !== undefined) return { model, source };
  if (isModelSource(model)) return { model: modelNameFromSource(model), source: model };
  throw new UsageError(`--model '${model}' is a name, not a source: add --source hf:org/repo[:file.gguf], https://…/file.gguf or file:/path/model.gguf, or pass the source as --model`);
}

export function registerWorkers(program: Command, context: CliContext): void {
  const workers = program.command("workers").description("the workers (one model each) running on the hives");

  workers
    .command("ls")
    .description("list workers with their model, state, slots and speed")
    .option("--hive <name>", "only this hive's workers")
    .option("--json", "print JSON")
    .action(async (options: { hive?: string; json?: boolean }) => {
      const list = await listAll(await context.queen(), WorkerView, "/v1/workers", { query: { hive_id: options.hive } });
      printListing(options.json === true, list, workerRow, "no workers running: rbee workers start --hive <name> --model <source> starts one");
    });

  workers
    .command("get <id>")
    .description("one worker, everything the registry knows about it")
    .option("--json", "print JSON")
    .action(async (id: string, options: { json?: boolean }) => {
      const worker = await (await context.queen()).call(WorkerView, "GET", `/v1/workers/${encodeURIComponent(id)}`);
      if (options.json) return printJson(worker);
      printDetails(worker);
    });

  workers
    .command("start")
    .description("start a worker for a model on a hive (the hive downloads the model first when it lacks it)")
    .requiredOption("--hive <name>", "the hive to run it on")
    .requiredOption("--model <name>", "the name clients ask for, or a source (then the name is derived from it)")
    .option("--source <source>", "where the model comes from: hf:org/repo[:file.gguf | :Q4_K_M], https://…/file.gguf, file:/path/model.gguf")
    .option("--json", "print JSON")
    .action(async (options: { hive: string; model: string; source?: string; json?: boolean }) => {
      const target = spawnTarget(options.model, options.source);
      const worker = await (await context.queen()).call(SpawnedWorker, "POST", "/v1/workers", {
        body: { hive: options.hive, ...target },
        timeoutMs: SPAWN_ANSWER_TIMEOUT_MS,
      });
      if (options.json) return printJson(worker);
      process.stdout.write(`worker ${worker.id} serves '${worker.model}' on hive '${worker.hive}' (pid ${worker.pid})\n`);
    });

  workers
    .command("stop <id>")
    .description("stop a worker and wait until its hive stopped it")
    .action(async (id: string) => {
      const { job_id: jobId } = await (await context.queen()).call(JobAccepted, "DELETE", `/v1/workers/${encodeURIComponent(id)}`);
      await context.waitForJob(jobId, "worker_delete", false);
      process.stdout.write(`worker ${id} stopped\n`);
    });
}
