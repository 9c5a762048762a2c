// Feeds a file on disk into a SHA-256: to pick up the hash of a part from an earlier attempt
// before resuming after it, and to record the hash of a local model that is linked, not copied.
import type { Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { ProgressMeter } from "./progress-meter.js";

/** Reads `filePath` into `hash`, reporting progress; returns the bytes read. Stops when `signal` aborts. */
export async function hashFileInto(filePath: string, hash: Hash, signal: AbortSignal, meter?: ProgressMeter, total?: number): Promise<number> {
  let bytes = 0;
  // 1 MiB reads: the default 64 KiB makes hashing a many-GB model needlessly slow.
  for await (const chunk of createReadStream(filePath, { highWaterMark: 1024 * 1024, signal })) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    bytes += buffer.length;
    meter?.update(bytes, total ?? null);
  }
  return bytes;
}
