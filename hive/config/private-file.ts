// Files that hold a secret (the hive's token, in hive.json or a --token-file): read together with
// their permissions, and refused when other users of the machine may read them, the way ssh
// refuses an open private key. Used by ./config-file.ts and ./options.ts.
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { UsageError } from "../../shared/usage-error.js";

export interface FileText {
  text: string;
  /** The file's permission bits, from the same open file the text was read from. */
  mode: number;
}

/** Reads `filePath` with its mode (one open file: no window for it to be swapped in between). */
export function readFileWithMode(filePath: string): FileText {
  const fd = openSync(filePath, "r");
  try {
    return { mode: fstatSync(fd).mode & 0o777, text: readFileSync(fd, "utf8") };
  } finally {
    closeSync(fd);
  }
}

/**
 * Throws UsageError when group or others may read or write the file (`mode & 0o077`). Windows has
 * no such bits (Node reports 0o666 for every file, whatever its ACL), so nothing is checked there:
 * a file under the user's profile (%APPDATA%, %LOCALAPPDATA%) is that user's alone by default.
 */
export function refuseSharedSecretFile(filePath: string, mode: number, what: string, platform: NodeJS.Platform = process.platform): void {
  if (platform === "win32" || (mode & 0o077) === 0) return;
  throw new UsageError(
    `${filePath} holds ${what} but other users of this machine may read it (mode ${mode.toString(8).padStart(3, "0")}); run chmod 600 ${filePath}`,
  );
}
