// Where a hive's local channel socket lives: a fixed path per hive name under the cache folder,
// so a restarted hive listens where its surviving workers already send their heartbeats.
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";

/** Unix socket paths are limited to ~104–108 bytes by the kernel (sun_path); stay below. */
const MAX_SOCKET_PATH_BYTES = 100;

export function channelSocketPath(cacheDir: string, hiveName: string): string {
  // The hive name is validated (letters, digits, . _ -), so it is a safe file name.
  const preferred = path.join(path.resolve(cacheDir), "run", `hive-${hiveName}.sock`);
  if (Buffer.byteLength(preferred) <= MAX_SOCKET_PATH_BYTES) return preferred;
  // A deep cache folder: a short, still-fixed name in the temp folder instead.
  const digest = createHash("sha256").update(preferred).digest("hex").slice(0, 16);
  return path.join(os.tmpdir(), `rbee-hive-${digest}.sock`);
}
