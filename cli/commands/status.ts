// `rbee status`: is the queen up, and how many hives, workers and models it has right now.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { listAll } from "../list-pages.js";
import { printJson } from "../output.js";
import { Health, HiveView, ModelView, WorkerView } from "../queen-views.js";

export function registerStatus(program: Command, context: CliContext): void {
  program
    .command("status")
    .description("the queen, and its hives, workers and models at a glance")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      const api = await context.queen();
      const health = await api.call(Health, "GET", "/health");
      const [hives, workers, models] = await Promise.all([
        listAll(api, HiveView, "/v1/hives"),
        listAll(api, WorkerView, "/v1/workers"),
        listAll(api, ModelView, "/v1/models"),
      ]);
      const online = hives.filter((hive) => hive.online).length;
      const ready = workers.filter((worker) => worker.state === "ready").length;
      const busy = workers.filter((worker) => worker.state === "busy").length;
      const status = {
        queen: api.target.queenUrl,
        health: health.status,
        hives: { total: hives.length, online },
        // A busy worker serves as much as a ready one: its slots are taken, that is all.
        workers: { total: workers.length, serving: ready + busy, ready, busy },
        models: models.map((model) => ({ id: model.id, state: model.state ?? null })),
      };
      if (options.json) return printJson(status);
      process.stdout.write(
        [
          `queen    ${status.queen} (${status.health})`,
          `hives    ${online} online of ${hives.length}`,
          `workers  ${ready + busy} serving of ${workers.length} (${busy} busy)`,
          `models   ${models.map((model) => `${model.id} (${model.state ?? "loaded"})`).join(", ") || "none"}`,
        ].join("\n") + "\n",
      );
    });
}
