// `rbee status`: is the queen up, and how many hives, workers and models it has right now.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { printJson } from "../output.js";
import { Health, HiveView, ModelView, WorkerView, listOf } from "../queen-views.js";

export function registerStatus(program: Command, context: CliContext): void {
  program
    .command("status")
    .description("the queen, and its hives, workers and models at a glance")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      const api = await context.queen();
      const health = await api.call(Health, "GET", "/health");
      const [hives, workers, models] = await Promise.all([
        api.call(listOf(HiveView), "GET", "/v1/hives"),
        api.call(listOf(WorkerView), "GET", "/v1/workers"),
        api.call(listOf(ModelView), "GET", "/v1/models"),
      ]);
      const online = hives.data.filter((hive) => hive.online).length;
      const ready = workers.data.filter((worker) => worker.state === "ready").length;
      const busy = workers.data.filter((worker) => worker.state === "busy").length;
      const status = {
        queen: api.target.queenUrl,
        health: health.status,
        hives: { total: hives.data.length, online },
        // A busy worker serves as much as a ready one: its slots are taken, that is all.
        workers: { total: workers.data.length, serving: ready + busy, ready, busy },
        models: models.data.map((model) => ({ id: model.id, state: model.state ?? null })),
      };
      if (options.json) return printJson(status);
      process.stdout.write(
        [
          `queen    ${status.queen} (${status.health})`,
          `hives    ${online} online of ${hives.data.length}`,
          `workers  ${ready + busy} serving of ${workers.data.length} (${busy} busy)`,
          `models   ${models.data.map((model) => `${model.id} (${model.state ?? "loaded"})`).join(", ") || "none"}`,
        ].join("\n") + "\n",
      );
    });
}
