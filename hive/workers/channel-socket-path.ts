// Where a hive's local channel socket lives: a fixed path per hive name in its run folder
// (--run-dir, default `<cache-dir>/run`), so a restarted hive listens where its surviving workers
// already send their heartbeats, while two hives of one name with run folders of their own (two
// `npm start`s side by side) never meet; on Windows, a named pipe just as fixed (Node's local
// sockets are named pipes there). Used by the hive at start, before LocalChannel.listen.
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { RbeeError } from "../../shared/errors.js";
import { formatHiveChannel, isWindowsPipePath } from "../../shared/hive-channel-address.js";

/** Unix socket paths are limited to ~104–108 bytes by the kernel (sun_path); stay below. */
const MAX_SOCKET_PATH_BYTES = 100;

/** Where the short fallback folder is looked for; the defaults are this process's. */
export interface SocketFolderContext {
  /** Read for `XDG_RUNTIME_DIR`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default `os.tmpdir()`. */
  tmpDir?: string;
  /** Who must own the fallback folder; default this process's uid. */
  uid?: number;
  /** Default `process.platform`; `win32` gets a named pipe. */
  platform?: NodeJS.Platform;
  /** Whose pipe it is on Windows, so two users' hives of one name never meet; default this user's name. */
  userName?: string;
}

/**
 * The socket path for hive `hiveName`: `<runDir>/hive-<name>.sock`, or, when that is too long
 * for a socket, a short fixed name in a private per-user folder, which this creates (0700) or
 * checks. Throws `unsafe_socket_folder` if that folder is not this user's alone.
 */
export function channelSocketPath(runDir: string, hiveName: string, context: SocketFolderContext = {}): string {
  if ((context.platform ?? process.platform) === "win32") return channelPipePath(runDir, hiveName, context.userName ?? os.userInfo().username);
  // The hive name is validated (letters, digits, . _ -), so it is a safe file name.
  const preferred = path.join(path.resolve(runDir), `hive-${hiveName}.sock`);
  if (Buffer.byteLength(preferred) <= MAX_SOCKET_PATH_BYTES) return preferred;
  // A deep run folder: a short, still-fixed name instead, a digest of the preferred path, so each
  // run folder keeps its own. Not straight in the temp folder: anyone may create files there, so
  // another local user could take the name first and have this hive's workers post their
  // heartbeats to them.
  const folder = privateSocketFolder(context);
  const digest = createHash("sha256").update(preferred).digest("hex").slice(0, 16);
  const fallback = path.join(folder, `hive-${digest}.sock`);
  if (Buffer.byteLength(fallback) > MAX_SOCKET_PATH_BYTES) {
    throw new RbeeError(
      500,
      "socket_path_too_long",
      `the hive's socket path is longer than ${MAX_SOCKET_PATH_BYTES} bytes both in the run folder (${preferred}) and in ${folder}; pass a shorter --run-dir`,
    );
  }
  return fallback;
}

/** The address (`--hive-channel`) the workers of hive `hiveName` listening in `runDir` are given: what LocalChannel.listen answers for its socket. */
export function channelAddress(runDir: string, hiveName: string, context: SocketFolderContext = {}): string {
  const socketPath = channelSocketPath(runDir, hiveName, context);
  return formatHiveChannel(isWindowsPipePath(socketPath) ? { kind: "pipe", pipePath: socketPath } : { kind: "unix", socketPath });
}

/**
 * `$XDG_RUNTIME_DIR/rbee` (already per-user, and cleaned at logout) when that variable holds an
 * absolute path, else `<tmpdir>/rbee-<uid>`; created 0700, or refused when it already exists and
 * is not a folder owned by this user that nobody else may enter.
 */
function privateSocketFolder(context: SocketFolderContext): string {
  const env = context.env ?? process.env;
  const uid = context.uid ?? process.getuid?.() ?? os.userInfo().uid;
  const runtimeDir = env.XDG_RUNTIME_DIR;
  const folder =
    runtimeDir && path.isAbsolute(runtimeDir) ? path.join(runtimeDir, "rbee") : path.join(context.tmpDir ?? os.tmpdir(), `rbee-${uid}`);
  try {
    mkdirSync(folder, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new RbeeError(500, "unsafe_socket_folder", `could not create the hive's socket folder ${folder}: ${(error as Error).message}`, { cause: error });
    }
  }
  // lstat, not stat: a link planted there by someone else must not be followed to a folder of theirs.
  const stats = lstatSync(folder);
  const refuse = (why: string, fix: string) =>
    new RbeeError(500, "unsafe_socket_folder", `refusing to put the hive's socket in ${folder}: ${why}; ${fix}`);
  if (!stats.isDirectory()) throw refuse("it is not a folder (a link or a file)", "remove it");
  if (stats.uid !== uid) throw refuse(`it is owned by uid ${stats.uid}, not by this user (uid ${uid})`, "remove it, or set XDG_RUNTIME_DIR elsewhere, or pass a shorter --run-dir");
  if ((stats.mode & 0o077) !== 0) {
    throw refuse(`other users may enter it (mode ${(stats.mode & 0o777).toString(8)})`, `run chmod 700 ${folder}`);
  }
  return folder;
}

/**
 * `\\.\pipe\rbee-hive-<name>-<digest>`: pipe names are one namespace for the whole machine and
 * have no length problem, so the digest of the run folder and the user keeps two users' (or two
 * run folders') hives of one name apart while a restarted hive gets the same name. libuv
 * creates the pipe as its first instance, so a name someone else already holds fails to listen
 * rather than being shared, and the default pipe ACL lets only its creator (and admins) write.
 */
function channelPipePath(runDir: string, hiveName: string, userName: string): string {
  const digest = createHash("sha256").update(`${userName}\0${path.win32.resolve(runDir).toLowerCase()}`).digest("hex").slice(0, 16);
  return `\\\\.\\pipe\\rbee-hive-${hiveName}-${digest}`;
}
