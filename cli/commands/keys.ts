// `rbee keys create|get|update|rotate|ls|revoke`: API keys for clients and operators; a key is shown once.
import type { Command } from "commander";
import type { z } from "zod";
import type { CliContext } from "../context.js";
import { BOOTSTRAP_KEY_ID } from "../../shared/admin-key.js";
import { idPattern } from "../../shared/ids.js";
import { MAX_EXPIRES_IN_DAYS, MAX_KEY_LIMIT } from "../../shared/key-limits.js";
import { Scope } from "../../shared/key-scopes.js";
import { printable } from "../../shared/printable.js";
import { UsageError } from "../../shared/usage-error.js";
import { choiceListOption, modelListOption, positiveIntegerOption, positiveIntegerOrNoneOption } from "../flag-values.js";
import { listAll } from "../list-pages.js";
import { printDetails, printJson, printListing } from "../output.js";
import { CreatedKey, KeyLimitsView, KeyView, RevokedKey } from "../queen-views.js";

/** A figure, or "none" to take it away (positiveIntegerOrNoneOption). */
type FigureOrNone = number | "none";

interface UpdateOptions {
  name?: string;
  models?: string[] | "all";
  expiresInDays?: FigureOrNone;
  rpm?: FigureOrNone;
  tpm?: FigureOrNone;
  dailyTokens?: FigureOrNone;
  json?: boolean;
}

/** `models` as the queen takes it: null for "all". */
function modelsOf(models: string[] | "all"): string[] | null {
  return models === "all" ? null : models;
}

function describeModels(models: string[] | null | undefined): string {
  return models == null ? "every model" : `models ${models.join(",")}`;
}

/** What the queen takes for a figure given: null for "none", nothing for a flag not given. */
function figure(value: FigureOrNone | undefined): number | null | undefined {
  return value === "none" ? null : value;
}

interface CreateOptions {
  name: string;
  models?: string[] | "all";
  scopes: string[];
  expiresInDays?: number;
  rpm?: number;
  tpm?: number;
  dailyTokens?: number;
  json?: boolean;
}

/** `limits` from the flags given (null: "none"); undefined when none was. */
function limitsOf(options: Pick<UpdateOptions, "rpm" | "tpm" | "dailyTokens">) {
  const limits = { rpm: figure(options.rpm), tpm: figure(options.tpm), daily_tokens: figure(options.dailyTokens) };
  return Object.values(limits).some((value) => value !== undefined) ? limits : undefined;
}

type LimitsView = z.infer<typeof KeyLimitsView>;

/** How a limit's figure reads, in the create command's sentence and in the listing's column. */
const LONG_UNITS = { rpm: " requests per minute", tpm: " tokens per minute", daily_tokens: " tokens per UTC day" } as const;
const SHORT_UNITS = { rpm: "/min", tpm: " tok/min", daily_tokens: " tok/day" } as const;

/** Each limit the key has, with its unit; none for a key without limits of its own. */
function limitParts(limits: LimitsView | undefined, units: Record<keyof LimitsView, string>): string[] {
  if (limits === undefined) return [];
  return (["rpm", "tpm", "daily_tokens"] as const).flatMap((name) => (limits[name] === null ? [] : [`${limits[name]}${units[name]}`]));
}

/** "; limits: 60 requests per minute, …" for the limits the queen says the key has, or nothing. */
function describeLimits(limits: LimitsView | undefined): string {
  const parts = limitParts(limits, LONG_UNITS);
  return parts.length === 0 ? "" : `; limits: ${parts.join(", ")}`;
}

function keyRow(key: z.infer<typeof KeyView>) {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes.join(","),
    // "2/min, 20000 tok/min, 1000000 tok/day"; "-" for a key without limits of its own.
    limits: limitParts(key.limits, SHORT_UNITS).join(", ") || null,
    created: key.created_at,
    expires: key.expires_at,
    last_used: key.last_used_at,
    models: key.models == null ? "all" : key.models.join(","),
    state: key.revoked_at === null ? "active" : "revoked",
  };
}

/** Refuses, before anything is sent, an id that names no key `command` can reach (exit 2). */
function checkKeyId(id: string, command: "get" | "update" | "rotate" | "revoke"): void {
  if (id.trim() === "") throw new UsageError(`rbee keys ${command}: give the id of the key to ${command} (key_…, as rbee keys ls lists them)`);
  if (id === BOOTSTRAP_KEY_ID) {
    const replaced = command === "revoke" ? "it is replaced, not revoked" : command === "rotate" ? "it is replaced by setting the secret anew" : "it has no record to show or change; it is replaced";
    throw new UsageError(
      `'admin' is the deployment's own admin key, the RBEE_ADMIN_KEY secret: ${replaced} (wrangler secret put RBEE_ADMIN_KEY for a deployed queen; RBEE_ADMIN_KEY or .rbee/admin-key for npm start)`,
    );
  }
  if (!idPattern("key").test(id)) throw new UsageError(`'${id}' is not an API key id: key_ and letters and digits, as rbee keys ls lists them (${command} takes the id, not the name)`);
}

export function registerKeys(program: Command, context: CliContext): void {
  const keys = program.command("keys").description("API keys for clients (scope inference) and operators (scope admin)");

  keys
    .command("create")
    .description("create an API key; it is printed once and only its hash is kept")
    .option("--name <name>", "what the key is for", "rbee-cli")
    .addOption(choiceListOption("--scopes <scopes>", `comma-separated: ${Scope.options.join(", ")}`, Scope.options).default(["inference"], "inference"))
    .addOption(positiveIntegerOption("--expires-in-days <days>", "it stops working after this many days (default: never)", MAX_EXPIRES_IN_DAYS))
    // The key's own limits (POST /v1/keys `limits`); past one, its requests get 429 naming it.
    .addOption(positiveIntegerOption("--rpm <requests>", "requests per minute the key may make (default: no limit of its own)", MAX_KEY_LIMIT))
    .addOption(positiveIntegerOption("--tpm <tokens>", "tokens (prompt and completion) per minute the key may spend (default: no limit)", MAX_KEY_LIMIT))
    .addOption(positiveIntegerOption("--daily-tokens <tokens>", "tokens per UTC day the key may spend (default: no limit)", MAX_KEY_LIMIT))
    .addOption(modelListOption("--models <names>", "comma-separated: the only models the key may use (default: all)"))
    .option("--json", "print JSON")
    .action(async (options: CreateOptions) => {
      const limits = limitsOf(options);
      const body = {
        name: options.name,
        scopes: options.scopes,
        ...(options.models === undefined ? {} : { models: modelsOf(options.models) }),
        ...(options.expiresInDays === undefined ? {} : { expires_in_days: options.expiresInDays }),
        ...(limits === undefined ? {} : { limits }),
      };
      const created = await (await context.queen()).call(CreatedKey, "POST", "/v1/keys", { body });
      if (options.json) return printJson(created);
      const only = created.models == null ? "" : `; ${describeModels(created.models)} only`;
      process.stdout.write(`created key ${created.id} (${created.scopes.join(",")}${describeLimits(created.limits)}${only}), shown once:\n${created.key}\n`);
    });

  keys
    .command("get <id>")
    .description("one API key: its name, scopes, limits, expiry and last use (never the key itself)")
    .option("--json", "print JSON")
    .action(async (id: string, options: { json?: boolean }) => {
      checkKeyId(id, "get");
      const key = await (await context.queen()).call(KeyView, "GET", `/v1/keys/${encodeURIComponent(id)}`);
      if (options.json) return printJson(key);
      printDetails(key);
    });

  keys
    .command("update <id>")
    .description("change a key's name, limits, expiry or models; it keeps its secret, scopes and usage (none: take a limit or the expiry away)")
    .option("--name <name>", "what the key is for")
    .addOption(positiveIntegerOrNoneOption("--rpm <requests>", "requests per minute the key may make, or none", MAX_KEY_LIMIT))
    .addOption(positiveIntegerOrNoneOption("--tpm <tokens>", "tokens per minute the key may spend, or none", MAX_KEY_LIMIT))
    .addOption(positiveIntegerOrNoneOption("--daily-tokens <tokens>", "tokens per UTC day the key may spend, or none", MAX_KEY_LIMIT))
    .addOption(positiveIntegerOrNoneOption("--expires-in-days <days>", "it stops working this many days from now, or none (never)", MAX_EXPIRES_IN_DAYS))
    .addOption(modelListOption("--models <names>", "comma-separated: the only models the key may use, or all"))
    .option("--json", "print JSON")
    .action(async (id: string, options: UpdateOptions) => {
      checkKeyId(id, "update");
      const limits = limitsOf(options);
      const body = {
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(limits === undefined ? {} : { limits }),
        ...(options.expiresInDays === undefined ? {} : { expires_in_days: figure(options.expiresInDays) }),
        ...(options.models === undefined ? {} : { models: modelsOf(options.models) }),
      };
      if (Object.keys(body).length === 0) throw new UsageError("rbee keys update: give what to change (--name, --rpm, --tpm, --daily-tokens, --expires-in-days or --models)");
      const key = await (await context.queen()).call(KeyView, "PATCH", `/v1/keys/${encodeURIComponent(id)}`, { body });
      if (options.json) return printJson(key);
      const expiry = key.expires_at === null ? "never expires" : `expires ${key.expires_at}`;
      process.stdout.write(`updated key ${key.id} (${printable(key.name)}; ${key.scopes.join(",")}${describeLimits(key.limits) || "; no limits of its own"}; ${describeModels(key.models)}; ${expiry})\n`);
    });

  keys
    .command("rotate <id>")
    .description("give a key a new secret, printed once: the old one stops working, the key keeps its id, limits, usage and stored responses")
    .option("--json", "print JSON")
    .action(async (id: string, options: { json?: boolean }) => {
      checkKeyId(id, "rotate");
      const rotated = await (await context.queen()).call(CreatedKey, "POST", `/v1/keys/${encodeURIComponent(id)}/rotate`);
      if (options.json) return printJson(rotated);
      process.stdout.write(`rotated key ${rotated.id} (${printable(rotated.name)}); its old secret no longer works. The new one, shown once:\n${rotated.key}\n`);
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
    .description("revoke an API key: new requests and those still queued are refused at once, answers under way finish (one revoked before: says so, exit 0)")
    .option("--json", "print JSON")
    .action(async (id: string, options: { json?: boolean }) => {
      checkKeyId(id, "revoke");
      const key = await (await context.queen()).call(RevokedKey, "DELETE", `/v1/keys/${encodeURIComponent(id)}`);
      if (options.json) return printJson(key);
      // Exit 0 either way: the key is revoked, which is what was asked, so a script may run twice.
      if (key.already_revoked === true) process.stdout.write(`key ${key.id} (${printable(key.name)}) was already revoked at ${key.revoked_at}\n`);
      else process.stdout.write(`revoked key ${key.id} (${printable(key.name)})\n`);
    });
}
