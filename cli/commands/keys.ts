// `rbee keys create|ls|revoke`: API keys for clients and operators; the key is shown once.
import { type Command, Option } from "commander";
import type { z } from "zod";
import type { CliContext } from "../context.js";
import { printJson, printListing } from "../output.js";
import { CreatedKey, KeyView, listOf } from "../queen-views.js";

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
    .addOption(new Option("--scopes <scopes>", "comma-separated: inference, admin").default("inference"))
    .option("--expires-in-days <days>", "it stops working after this many days (default: never)")
    .option("--json", "print JSON")
    .action(async (options: { name: string; scopes: string; expiresInDays?: string; json?: boolean }) => {
      const body = {
        name: options.name,
        scopes: options.scopes.split(",").map((scope) => scope.trim()).filter((scope) => scope !== ""),
        ...(options.expiresInDays === undefined ? {} : { expires_in_days: Number(options.expiresInDays) }),
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
      const list = await (await context.queen()).call(listOf(KeyView), "GET", "/v1/keys");
      printListing(options.json === true, list.data, keyRow, "no API keys besides the deployment's admin key: rbee keys create makes one");
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
