// `rbee usage`: requests and tokens per API key per UTC day.
import type { Command } from "commander";
import { UsageError } from "../../shared/usage-error.js";
import type { CliContext } from "../context.js";
import { utcDayOption } from "../flag-values.js";
import { listAll } from "../list-pages.js";
import { printListing } from "../output.js";
import { UsageRow } from "../queen-views.js";

interface UsageFilter {
  key?: string;
  from?: string;
  to?: string;
}

/**
 * What an empty answer means, in the filter's own terms. The usage API cannot tell a key that
 * never spent anything from one that does not exist, so neither does this.
 */
function noUsageMessage({ key, from, to }: UsageFilter): string {
  const days = from !== undefined && to !== undefined ? ` from ${from} to ${to}` : from !== undefined ? ` since ${from}` : to !== undefined ? ` up to ${to}` : "";
  if (key !== undefined) return `no usage recorded for a key with id '${key}'${days} (rbee keys ls lists the keys)`;
  return days === "" ? "no usage recorded yet" : `no usage recorded${days}`;
}

export function registerUsage(program: Command, context: CliContext): void {
  program
    .command("usage")
    .description("requests and tokens per API key per UTC day")
    .option("--key <id>", "only this key (key_…, or 'admin' for the deployment's admin key)")
    .addOption(utcDayOption("--from <day>", "first day, YYYY-MM-DD"))
    .addOption(utcDayOption("--to <day>", "last day, YYYY-MM-DD"))
    .option("--json", "print JSON")
    .action(async (options: UsageFilter & { json?: boolean }) => {
      // YYYY-MM-DD compares as text in calendar order.
      if (options.from !== undefined && options.to !== undefined && options.from > options.to) {
        throw new UsageError(`--from ${options.from} is after --to ${options.to}: no day lies in that range (both ends are included)`);
      }
      const query = { key_id: options.key, from: options.from, to: options.to };
      const list = await listAll(await context.queen(), UsageRow, "/v1/usage", { query });
      const row = (usage: (typeof list)[number]) => ({
        day: usage.day,
        key: usage.key_id,
        name: usage.key_name ?? null,
        requests: usage.requests,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
      });
      printListing(options.json === true, list, row, noUsageMessage(options));
    });
}
