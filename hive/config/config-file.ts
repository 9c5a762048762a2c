// The hive's optional JSON config file: which file (--config, RBEE_CONFIG, or the default one
// if it exists), read and validated once, with errors that name the file and the key. A file
// holding a secret (the token) must be readable by its owner alone.
import type { z } from "zod";
import { UsageError } from "../../shared/usage-error.js";
import { issuePath } from "../../shared/validation.js";
import { readFileWithMode, refuseSharedSecretFile, type FileText } from "./private-file.js";
import { absolutePath, pathsOf, rbeeDir } from "./user-dirs.js";

export const CONFIG_FILE_NAME = "hive.json";

export interface ConfigFileLocation {
  /** Absolute path of the file. */
  path: string;
  /** What named it, for messages (`--config`, `--config (env RBEE_CONFIG)`); undefined for the default. */
  namedBy: string | undefined;
}

export interface UserPaths {
  homeDir: string;
  /** Folder relative paths in flags and the environment are taken from. */
  cwd: string;
  /** Whose default folders and path rules apply; default `process.platform`. */
  platform?: NodeJS.Platform;
}

/** The file named by the flag, else by RBEE_CONFIG, else the default `$XDG_CONFIG_HOME/rbee/hive.json`. */
export function locateConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv, paths: UserPaths): ConfigFileLocation {
  const named = flag !== undefined ? { value: flag, by: "--config" } : env.RBEE_CONFIG ? { value: env.RBEE_CONFIG, by: "--config (env RBEE_CONFIG)" } : undefined;
  const platform = paths.platform ?? process.platform;
  if (named === undefined) return { path: pathsOf(platform).join(rbeeDir("config", env, paths.homeDir, platform), CONFIG_FILE_NAME), namedBy: undefined };
  if (named.value.trim() === "") throw new UsageError(`${named.by}: expected a path to a JSON file, got an empty string`);
  return { path: absolutePath(named.value, paths.cwd, paths.homeDir, platform), namedBy: named.by };
}

/**
 * The file's options, validated by `schema` (a strict object, so a misspelt key is an error,
 * not silently ignored). Undefined when the default file does not exist; a file someone named
 * must exist. `secretKeys` are never echoed back in messages, and a file holding one is refused
 * when other users may read it.
 */
export function readConfigFile<S extends z.ZodObject>(
  location: ConfigFileLocation,
  schema: S,
  secretKeys: ReadonlySet<string>,
): z.infer<S> | undefined {
  const file = readText(location);
  if (file === undefined) return undefined;
  const { text, mode } = file;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${location.path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(`${location.path}: expected a JSON object of options like {"queenUrl": "…"}, got ${Array.isArray(data) ? "an array" : JSON.stringify(data)}`);
  }
  const result = schema.safeParse(data);
  if (result.success) {
    const secrets = Object.keys(result.data).filter((key) => secretKeys.has(key));
    if (secrets.length > 0) refuseSharedSecretFile(location.path, mode, `a secret (${secrets.join(", ")})`);
    return result.data;
  }
  const issue = result.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    const keys = issue.keys.map((key) => JSON.stringify(key)).join(", ");
    throw new UsageError(`${location.path}: unknown key ${keys}; the known keys are ${Object.keys(schema.shape).join(", ")}`);
  }
  const key = issue === undefined ? "" : issuePath(issue.path);
  const value: unknown = (data as Record<string, unknown>)[String(issue?.path[0] ?? "")];
  const got = value === undefined || secretKeys.has(key) ? "" : `, got ${JSON.stringify(value)}`;
  throw new UsageError(`${location.path}: ${key}: ${issue?.message ?? "invalid"}${got}`);
}

function readText(location: ConfigFileLocation): FileText | undefined {
  try {
    return readFileWithMode(location.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Reading rather than checking first: no window for the file to vanish in between.
    if (code === "ENOENT" && location.namedBy === undefined) return undefined;
    if (code === "ENOENT") throw new UsageError(`${location.namedBy}: ${location.path} does not exist`, { cause: error });
    throw new UsageError(`${location.path}: cannot read the config file (${code ?? (error as Error).message})`, { cause: error });
  }
}
