// Where the `rbee` CLI finds its queen and key: ~/.config/rbee/config.json (XDG_CONFIG_HOME
// respected), written by `rbee login`, with RBEE_QUEEN_URL and RBEE_API_KEY overriding it; and how
// long it waits for the queen to answer (RBEE_TIMEOUT_SECONDS).
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { UsageError } from "../shared/usage-error.js";
import { CliError, EXIT } from "./cli-error.js";

const DEFAULTS = {
  /** Seconds rbee waits for the queen to begin answering a request (RBEE_TIMEOUT_SECONDS). */
  timeoutSeconds: 30,
};

const ConfigFile = z.object({ queen_url: z.string().url(), api_key: z.string().min(1) });

export interface QueenTarget {
  /** The queen's origin without `/v1`, e.g. `http://127.0.0.1:7833`. */
  queenUrl: string;
  apiKey: string;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(base, "rbee", "config.json");
}

/** `https://q.example/v1/` → `https://q.example`: people paste the OpenAI base URL as often as the bare one. */
export function normalizeQueenUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`the queen URL must be an http:// or https:// URL such as http://127.0.0.1:7833, got '${text}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`the queen URL must start with http:// or https://, got '${text}'`);
  const path = url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  return `${url.origin}${path}`;
}

async function readConfigFile(path: string): Promise<z.infer<typeof ConfigFile> | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed;
  try {
    parsed = ConfigFile.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new UsageError(`${path} is not a config rbee wrote (queen_url, api_key): run rbee login <url> to write it again`);
  return parsed.data;
}

/** The queen and key to use: the environment wins over the file, field by field. */
export async function resolveTarget(env: NodeJS.ProcessEnv): Promise<QueenTarget> {
  const path = configPath(env);
  const file = await readConfigFile(path);
  const url = env.RBEE_QUEEN_URL || file?.queen_url;
  const apiKey = env.RBEE_API_KEY || file?.api_key;
  if (url === undefined || apiKey === undefined) {
    throw new CliError(
      EXIT.unreachable,
      "not_logged_in",
      `no queen configured (${path} is missing): run rbee login <url>, or set RBEE_QUEEN_URL and RBEE_API_KEY (npm start prints them)`,
    );
  }
  return { queenUrl: normalizeQueenUrl(url), apiKey };
}

/** Writes the config readable by its owner only: it holds a key. */
export async function writeConfig(env: NodeJS.ProcessEnv, target: QueenTarget): Promise<string> {
  const path = configPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify({ queen_url: target.queenUrl, api_key: target.apiKey }, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600); // mode applies only when the file is created; an older one may be wider
  return path;
}

/** How long to wait for the queen's answer, in ms: RBEE_TIMEOUT_SECONDS, or 30 s. */
export function answerTimeoutMs(env: NodeJS.ProcessEnv): number {
  const text = env.RBEE_TIMEOUT_SECONDS;
  if (text === undefined || text === "") return DEFAULTS.timeoutSeconds * 1000;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(seconds > 0)) throw new UsageError(`RBEE_TIMEOUT_SECONDS: expected a number of seconds above 0, got '${text}'`);
  return seconds * 1000;
}
