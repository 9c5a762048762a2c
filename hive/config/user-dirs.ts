// Where the hive keeps its config and cache by default, per platform: the XDG base directories
// on Linux (and wherever XDG_CONFIG_HOME / XDG_CACHE_HOME are set: an explicit choice wins
// everywhere), ~/Library on macOS, %APPDATA% and %LOCALAPPDATA% on Windows. Used by ./options.ts
// and ./config-file.ts; the platform is a parameter so each is tested on Linux.
import path from "node:path";

export type XdgKind = "config" | "cache";

const XDG = {
  config: { variable: "XDG_CONFIG_HOME", fallback: ".config" },
  cache: { variable: "XDG_CACHE_HOME", fallback: ".cache" },
} as const;

/** Where Apple's guidelines put settings and re-downloadable data (models, worker builds). */
const MACOS = { config: ["Library", "Application Support"], cache: ["Library", "Caches"] } as const;

/** Roaming settings follow the user between machines; caches of many GiB stay local. */
const WINDOWS = {
  config: { variable: "APPDATA", fallback: ["AppData", "Roaming"] },
  cache: { variable: "LOCALAPPDATA", fallback: ["AppData", "Local"] },
} as const;

/** The path functions of `platform`: Windows paths are joined with backslashes, even in a test on Linux. */
export function pathsOf(platform: NodeJS.Platform): path.PlatformPath {
  return platform === "win32" ? path.win32 : path.posix;
}

/**
 * `$XDG_CONFIG_HOME/rbee` when set; else `~/.config/rbee` on Linux, `~/Library/Application
 * Support/rbee` on macOS, `%APPDATA%\rbee` on Windows (and likewise for the cache:
 * `~/.cache/rbee`, `~/Library/Caches/rbee`, `%LOCALAPPDATA%\rbee`).
 */
export function rbeeDir(kind: XdgKind, env: NodeJS.ProcessEnv, homeDir: string, platform: NodeJS.Platform = process.platform): string {
  const paths = pathsOf(platform);
  const xdg = env[XDG[kind].variable];
  // The XDG spec says a relative value is invalid and must be ignored.
  if (xdg !== undefined && paths.isAbsolute(xdg)) return paths.join(xdg, "rbee");
  if (platform === "darwin") return paths.join(homeDir, ...MACOS[kind], "rbee");
  if (platform === "win32") {
    const known = env[WINDOWS[kind].variable];
    return paths.join(known !== undefined && paths.isAbsolute(known) ? known : paths.join(homeDir, ...WINDOWS[kind].fallback), "rbee");
  }
  return paths.join(homeDir, XDG[kind].fallback, "rbee");
}

/**
 * An absolute path: a leading `~` means the home folder (a config file has no shell to expand
 * it), and a relative path is taken from `baseDir` (the working folder, or the config file's).
 */
export function absolutePath(value: string, baseDir: string, homeDir: string, platform: NodeJS.Platform = process.platform): string {
  const paths = pathsOf(platform);
  const home = value === "~" || value.startsWith("~/") || (platform === "win32" && value.startsWith("~\\"));
  return paths.resolve(baseDir, home ? paths.join(homeDir, value.slice(1)) : value);
}
