// `rbee usage`: requests and tokens per API key per UTC day.
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { printListing } from "../output.js";
import { UsageRow, listOf } from "../queen-views.js";

export function registerUsage(program: Command, context: CliContext): void {
  program
    .command("usage")
    .description("requests and tokens per API key per UTC day")
    .option("--key <id>", "only this key (key_…, or 'admin' for the deployment's admin key)")
    .option("--from <day>", "first day, YYYY-MM-DD")
    .option("--to <day>", "last day, YYYY-MM-DD")
    .option("--json", "print JSON")
    .action(async (options: { key?: string; from?: string; to?: string; json?: boolean }) => {
      const query = { key_id: options.key, from: options.from, to: options.to };
      const list = await (await context.queen()).call(listOf(UsageRow), "GET", "/v1/usage", { query });
      const row = (usage: (typeof list.data)[number]) => ({
        day: usage.day,
        key: usage.key_id,
        requests: usage.requests,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
      });
      printListing(options.json === true, list.data, row, "no usage recorded yet");
    });
}
