// Where the hive keeps its config and cache by default: the XDG base directories, which
// Linux desktops, macOS users and container images all honour, under ~ when they are unset.
import path from "node:path";

export type XdgKind = "config" | "cache";

const XDG = {
  config: { variable: "XDG_CONFIG_HOME", fallback: ".config" },
  cache: { variable: "XDG_CACHE_HOME", fallback: ".cache" },
} as const;

/** `$XDG_CONFIG_HOME/rbee` or `~/.config/rbee` (and likewise for the cache). */
export function rbeeDir(kind: XdgKind, env: NodeJS.ProcessEnv, homeDir: string): string {
  const base = env[XDG[kind].variable];
  // The XDG spec says a relative value is invalid and must be ignored.
  const root = base !== undefined && path.isAbsolute(base) ? base : path.join(homeDir, XDG[kind].fallback);
  return path.join(root, "rbee");
}

/**
 * An absolute path: a leading `~` means the home folder (a config file has no shell to expand
 * it), and a relative path is taken from `baseDir` (the working folder, or the config file's).
 */
export function absolutePath(value: string, baseDir: string, homeDir: string): string {
  const expanded = value === "~" || value.startsWith("~/") ? path.join(homeDir, value.slice(1)) : value;
  return path.resolve(baseDir, expanded);
}
