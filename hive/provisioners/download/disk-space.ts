// Refuses a download (or a model copy) that cannot fit before it starts, instead of failing with
// ENOSPC gigabytes in, with a half-written file filling the disk the other jobs and the OS need.
import { statfs } from "node:fs/promises";
import { RbeeError } from "../../../shared/errors.js";

/** Bytes free for this (unprivileged) process on the filesystem holding `folder`. */
export type FreeBytes = (folder: string) => Promise<number>;

/** Room left free beyond the file itself, bytes: the catalog's metadata, logs, the OS. */
export const DISK_MARGIN_BYTES = 256 * 1024 * 1024;

export const freeBytesOnDisk: FreeBytes = async (folder) => {
  const stats = await statfs(folder);
  return stats.bavail * stats.bsize; // bavail, not bfree: blocks reserved for root are not ours
};

export interface DiskSpaceRequest {
  folder: string;
  /** The whole file's size, bytes. */
  totalBytes: number;
  /** Bytes of it already on disk (a part from an earlier attempt), which need no new room. */
  presentBytes: number;
  /** For the message, e.g. `hf:org/repo/x.gguf`. */
  label: string;
  freeBytes: FreeBytes;
  marginBytes: number;
  /** Set while a download is under way: the bytes already written, kept for a resume. */
  received?: number;
  /** What resumes it, for the message, e.g. `asking for the model again`. */
  resumeBy?: string;
}

export async function ensureDiskSpace(request: DiskSpaceRequest): Promise<void> {
  const free = await request.freeBytes(request.folder);
  if (free >= neededBytes(request)) return;
  throw diskFullError(request, undefined, free);
}

/** The error for a disk without room for `request`: before the download, during it, or a write that hit ENOSPC (`cause`). */
export function diskFullError(request: DiskSpaceRequest, cause?: unknown, free?: number): RbeeError {
  const needed = neededBytes(request);
  const has = free === undefined ? "is full" : `has ${formatBytes(free)} free`;
  return new RbeeError(
    507,
    "insufficient_disk_space",
    `not enough disk space for ${request.label}: it needs ${formatBytes(needed)} (${formatBytes(request.totalBytes)} file` +
      `${request.presentBytes > 0 ? `, ${formatBytes(request.presentBytes)} already downloaded` : ""}, plus a ${formatBytes(request.marginBytes)} margin)` +
      ` but ${request.folder} ${has}; free some space or move rbee's cache to a larger disk` +
      (request.received === undefined ? "" : `. The ${formatBytes(request.received)} downloaded so far are kept, so ${request.resumeBy ?? "asking again"} resumes from there`),
    { cause },
  );
}

function neededBytes(request: DiskSpaceRequest): number {
  return Math.max(0, request.totalBytes - request.presentBytes) + request.marginBytes;
}

/** `1.5 GiB (1610612736 bytes)`: readable, and exact for whoever compares numbers. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}
