// `rbee models ls|pull|rm|alias`: what clients can ask for, and the hives' model catalogs, changed
// through jobs (model_download, model_delete, model_list) whose progress the CLI shows; aliases
// are the queen's other names for a model (/v1/models/:alias/alias).
import type { Command } from "commander";
import { z } from "zod";
import { isModelSource, modelNameFromSource } from "../../shared/models/model-name.js";
import { formatBytes } from "../../shared/progress-format.js";
import type { CliContext } from "../context.js";
import { printJson, printListing } from "../output.js";
import { listAll } from "../list-pages.js";
import { ModelView } from "../queen-views.js";

/** A model in a hive's catalog as the model_list job reports it. */
const CatalogModel = z.looseObject({ id: z.string(), status: z.string(), reason: z.string().optional(), size_bytes: z.number().nullable().optional(), served_as: z.array(z.string()).optional() });
const CatalogList = z.looseObject({ models: z.array(CatalogModel) });
const AliasView = z.looseObject({ alias: z.string(), model: z.string(), warning: z.string().optional() });

export function registerModels(program: Command, context: CliContext): void {
  const models = program.command("models").description("models: what clients can ask for, and what each hive keeps");

  models
    .command("ls")
    .description("list the models clients can ask for; with --hive, that hive's catalog")
    .option("--hive <name>", "list this hive's model catalog instead")
    .option("--json", "print JSON")
    .action(async (options: { hive?: string; json?: boolean }) => {
      if (options.hive === undefined) {
        const list = await listAll(await context.queen(), ModelView, "/v1/models");
        const row = (model: z.infer<typeof ModelView>) => ({ model: model.id, state: model.state, hives: model.hives?.join(",") });
        return printListing(options.json === true, list, row, "no models: rbee models pull <source> --hive <name> gets one");
      }
      const jobId = await context.submitJob({ operation: "model_list", hive: options.hive });
      const { data } = await context.waitForJob(jobId, "model_list", false);
      const catalog = CatalogList.parse(data ?? { models: [] }).models;
      const row = (model: z.infer<typeof CatalogModel>) => ({
        source: model.id,
        // A failed entry says why: what to do about it is in the reason (ask again to resume, …).
        status: model.reason === undefined ? model.status : `${model.status}: ${model.reason}`,
        size: typeof model.size_bytes === "number" ? formatBytes(model.size_bytes) : null,
        // The names its workers were started under, which clients may ask for besides the file's own.
        "served as": model.served_as?.length ? model.served_as.join(",") : null,
      });
      printListing(options.json === true, catalog, row, `hive '${options.hive}' holds no models`);
    });

  models
    .command("pull <source>")
    .description("download a model into a hive's catalog, with a live progress bar")
    .requiredOption("--hive <name>", "the hive to download it to")
    .option("--json", "print the job's result as JSON")
    .action(async (source: string, options: { hive: string; json?: boolean }) => {
      const jobId = await context.submitJob({ operation: "model_download", hive: options.hive, model: source });
      const { data } = await context.waitForJob(jobId, "model_download", options.json !== true);
      if (options.json) printJson(data ?? {});
      else process.stdout.write(`hive '${options.hive}' has ${source}; rbee workers start --hive ${options.hive} --model ${source} serves it\n`);
    });

  models
    .command("rm <source>")
    .description("delete a model from a hive's catalog (refused while a worker has it loaded)")
    .requiredOption("--hive <name>", "the hive to delete it from")
    .action(async (source: string, options: { hive: string }) => {
      const jobId = await context.submitJob({ operation: "model_delete", hive: options.hive, model: source });
      await context.waitForJob(jobId, "model_delete", false);
      process.stdout.write(`deleted ${source} from hive '${options.hive}'\n`);
    });

  models
    .command("alias <alias> [model]")
    .description("name a model once so clients can ask for <alias>: with <model> (a model name, or a source such as hf:org/repo, which names the model it serves) sets it, alone shows it, with --rm deletes it")
    .option("--rm", "delete the alias")
    .option("--json", "print JSON")
    .action(async (alias: string, model: string | undefined, options: { rm?: boolean; json?: boolean }) => {
      const queen = await context.queen();
      const path = `/v1/models/${encodeURIComponent(alias)}/alias`;
      if (options.rm === true) {
        await queen.send("DELETE", path);
        if (options.json) printJson({ alias, deleted: true });
        else process.stdout.write(`deleted the alias '${alias}'\n`);
        return;
      }
      // A source names the model it serves, by the one rule (shared/models/model-name.ts).
      const target = model !== undefined && isModelSource(model) ? modelNameFromSource(model) : model;
      const view = await queen.call(AliasView, target === undefined ? "GET" : "PUT", path, target === undefined ? {} : { body: { model: target } });
      if (options.json) printJson(view);
      else process.stdout.write(`'${view.alias}' names '${view.model}': clients can ask for model '${view.alias}'\n`);
      if (view.warning !== undefined && !options.json) process.stderr.write(`warning: ${view.warning}\n`);
    });
}
