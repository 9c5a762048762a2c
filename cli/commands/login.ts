// `rbee login <url>`: checks a key against the queen and saves both to the CLI's config file.
import { createInterface } from "node:readline/promises";
import { text } from "node:stream/consumers";
import type { Command } from "commander";
import { UsageError } from "../../shared/usage-error.js";
import { CliError } from "../cli-error.js";
import { answerTimeoutMs, normalizeQueenUrl, writeConfig } from "../config.js";
import type { CliContext } from "../context.js";
import { QueenApi } from "../queen-api.js";
import { KeyView, ModelView, listOf } from "../queen-views.js";

/** The key from --key, RBEE_API_KEY, a prompt on a terminal, or the first line of stdin. */
async function readKey(given: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  let key = given ?? env.RBEE_API_KEY;
  if (key === undefined) {
    if (process.stdin.isTTY) {
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      key = await prompt.question("API key (npm start prints it; rbee keys create makes one): ");
      prompt.close();
    } else {
      key = (await text(process.stdin)).split("\n")[0];
    }
  }
  key = key?.trim();
  if (key === undefined || key === "") throw new UsageError("no API key given: pass --key <key>, set RBEE_API_KEY, or pipe it on stdin");
  return key;
}

export function registerLogin(program: Command, context: CliContext): void {
  program
    .command("login <url>")
    .description("check an API key against a queen and save both (URL with or without /v1)")
    .option("--key <key>", "the API key (default: RBEE_API_KEY, a prompt, or stdin)")
    .action(async (url: string, options: { key?: string }) => {
      const target = { queenUrl: normalizeQueenUrl(url), apiKey: await readKey(options.key, context.env) };
      const api = new QueenApi(target, answerTimeoutMs(context.env));
      // Any key may list models: a wrong key or a wrong URL shows here, before anything is saved.
      await api.call(listOf(ModelView), "GET", "/v1/models");
      const admin = await api.call(listOf(KeyView), "GET", "/v1/keys", { query: { limit: "1" } }).then(
        () => true,
        (error: unknown) => {
          if (error instanceof CliError && error.code === "insufficient_scope") return false;
          throw error;
        },
      );
      const path = await writeConfig(context.env, target);
      process.stdout.write(`logged in to ${target.queenUrl}; saved to ${path}\n`);
      if (!admin) process.stdout.write("this key has only the inference scope: rbee chat and rbee models ls work, the admin commands need an admin key\n");
    });
}
