// `rbee keys create|ls|revoke`: API keys for clients and operators; the key is shown once.
import type { Command } from "commander";
import type { z } from "zod";
import type { CliContext } from "../context.js";
import { Scope } from "../../shared/key-scopes.js";
import { choiceListOption, positiveIntegerOption } from "../flag-values.js";
import { listAll } from "../list-pages.js";
import { printJson, printListing } from "../output.js";
import { CreatedKey, KeyView } from "../queen-views.js";


function keyRow(key: z.infer<typeof KeyView>) {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes.join(","),
    created: key.created_at,
    expires: key.expires_at,
    last_used: key.last_used_at,
    state: key.revoked_at === null ? "active" : "revoked",
  };
}

export function registerKeys(program: Command, context: CliContext): void {
  const keys = program.command("keys").description("API keys for clients (scope inference) and operators (scope admin)");

  keys
    .command("create")
    .description("create an API key; it is printed once and only its hash is kept")
    .option("--name <name>", "what the key is for", "rbee-cli")
    .addOption(choiceListOption("--scopes <scopes>", `comma-separated: ${Scope.options.join(", ")}`, Scope.options).default(["inference"], "inference"))
    .addOption(positiveIntegerOption("--expires-in-days <days>", "it stops working after this many days (default: never)"))
    .option("--json", "print JSON")
    .action(async (options: { name: string; scopes: string[]; expiresInDays?: number; json?: boolean }) => {
      const body = {
        name: options.name,
        scopes: options.scopes,
        ...(options.expiresInDays === undefined ? {} : { expires_in_days: options.expiresInDays }),
      };
      const created = await (await context.queen()).call(CreatedKey, "POST", "/v1/keys", { body });
      if (options.json) return printJson(created);
      process.stdout.write(`created key ${created.id} (${created.scopes.join(",")}), shown once:\n${created.key}\n`);
    });

  keys
    .command("ls")
    .description("list API keys, newest first (never the keys themselves)")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      const list = await listAll(await context.queen(), KeyView, "/v1/keys");
      printListing(options.json === true, list, keyRow, "no API keys besides the deployment's admin key: rbee keys create makes one");
    });

  keys
    .command("revoke <id>")
    .description("revoke an API key; it stops working at once")
    .option("--json", "print JSON")
    .action(async (id: string, options: { json?: boolean }) => {
      const key = await (await context.queen()).call(KeyView, "DELETE", `/v1/keys/${encodeURIComponent(id)}`);
      if (options.json) return printJson(key);
      process.stdout.write(`revoked key ${key.id} (${key.name})\n`);
    });
}
