// `rbee hives ls|get|add|token|revoke`: the hives the queen knows, and their tokens.
import type { Command } from "commander";
import { formatBytes } from "../../shared/progress-format.js";
import { CliError, EXIT } from "../cli-error.js";
import type { CliContext } from "../context.js";
import { printJson, printListing, printTable } from "../output.js";
import { listAll } from "../list-pages.js";
import { HiveModelView, HiveView, IssuedHiveToken, RevokedHiveView } from "../queen-views.js";
import type { z } from "zod";

function hiveRow(hive: z.infer<typeof HiveView>) {
  // A hive's --memory-budget caps what it offers below what the machine has: say both.
  const offered = hive.devices?.ram_total_bytes;
  const budget = hive.machine !== null && offered !== undefined && offered < hive.machine.memory_bytes ? ` (offers ${formatBytes(offered)})` : "";
  return {
    name: hive.name,
    online: hive.online ? "online" : "offline",
    machine: hive.machine === null ? null : `${hive.machine.os}/${hive.machine.arch} ${hive.machine.cpu_cores} cores ${formatBytes(hive.machine.memory_bytes)}${budget}`,
    gpus: hive.devices === null ? null : hive.devices.gpus.map((gpu) => `${gpu.name} (${gpu.backend})`).join(", ") || "none",
    last_seen: hive.last_seen_at,
    token: hive.token_revoked_at === null ? "valid" : "revoked",
  };
}

/** How a person gets a hive with this token onto a GPU machine. */
function printIssuedToken(issued: z.infer<typeof IssuedHiveToken>, queenUrl: string): void {
  process.stdout.write(`hive '${issued.name}' token (shown once): ${issued.token}\n\nOn the GPU machine, from a clone of rbee:\n  RBEE_HIVE_TOKEN=${issued.token} npx rbee-hive connect --queen ${queenUrl} --name ${issued.name}\n`);
}

export function registerHives(program: Command, context: CliContext): void {
  const hives = program.command("hives").description("the hives (GPU machines) the queen knows");
  const list = async () => listAll(await context.queen(), HiveView, "/v1/hives");
  const find = async (name: string) => {
    const hive = (await list()).find((candidate) => candidate.name === name);
    if (hive === undefined) throw new CliError(EXIT.failed, "hive_not_found", `no hive named '${name}': rbee hives ls lists them, rbee hives add ${name} creates it`);
    return hive;
  };

  hives
    .command("ls")
    .description("list hives, whether each is online, and its machine")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => printListing(options.json === true, await list(), hiveRow, "no hives yet: rbee hives add <name> creates one"));

  hives
    .command("get <name>")
    .description("one hive, with the models it has served")
    .option("--json", "print JSON")
    .action(async (name: string, options: { json?: boolean }) => {
      const hive = await find(name);
      const models = await listAll(await context.queen(), HiveModelView, `/v1/hives/${encodeURIComponent(name)}/models`);
      if (options.json) return printJson({ ...hive, models });
      printTable([hiveRow(hive)], Object.keys(hiveRow(hive)), "");
      process.stdout.write("\n");
      printTable(models.map((model) => ({ model: model.id, serving: model.serving ? "yes" : "no", last_seen: model.last_seen_at })), ["model", "serving", "last_seen"], "no models served on it yet");
    });

  hives
    .command("add <name>")
    .description("register a hive and print its token and the command that connects it")
    .option("--json", "print JSON")
    .action(async (name: string, options: { json?: boolean }) => {
      if ((await list()).some((hive) => hive.name === name)) {
        throw new CliError(EXIT.failed, "hive_exists", `a hive named '${name}' already exists: rbee hives token ${name} issues it a new token (the old one stops working)`);
      }
      await issueToken(context, name, options.json === true);
    });

  hives
    .command("token <name>")
    .description("issue a hive a new token; the old one stops working and a connected hive is cut off")
    .option("--json", "print JSON")
    .action(async (name: string, options: { json?: boolean }) => {
      await find(name);
      await issueToken(context, name, options.json === true);
    });

  hives
    .command("revoke <name>")
    .description("revoke a hive's token; a connected hive is cut off now")
    .option("--json", "print JSON")
    .action(async (name: string, options: { json?: boolean }) => {
      const hive = await (await context.queen()).call(RevokedHiveView, "DELETE", `/v1/hives/${encodeURIComponent(name)}/token`);
      if (options.json) return printJson(hive);
      // Exit 0 either way, as `rbee keys revoke`: the token is revoked, which is what was asked.
      if (hive.already_revoked) process.stdout.write(`the token of hive '${name}' was already revoked at ${hive.token_revoked_at}; rbee hives token ${name} issues a new one\n`);
      else process.stdout.write(`revoked the token of hive '${name}'; rbee hives token ${name} issues a new one\n`);
    });
}

async function issueToken(context: CliContext, name: string, json: boolean): Promise<void> {
  const api = await context.queen();
  const issued = await api.call(IssuedHiveToken, "POST", "/v1/hives", { body: { name } });
  if (json) printJson(issued);
  else printIssuedToken(issued, api.target.queenUrl);
}
