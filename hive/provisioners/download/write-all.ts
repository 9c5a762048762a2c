// Writes one chunk of a file fully (a file write may take fewer bytes than asked), turning a full
// disk into the error that says so, for the downloads and copies into the catalogs.
import type { FileHandle } from "node:fs/promises";
import { RbeeError } from "../../../shared/errors.js";

export async function writeAll(handle: FileHandle, chunk: Uint8Array, filePath: string): Promise<void> {
  let written = 0;
  try {
    while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written)).bytesWritten;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") {
      throw new RbeeError(507, "insufficient_disk_space", `the disk filled up while writing ${filePath}; free some space and ask again`, { cause: error });
    }
    throw new RbeeError(500, "file_write_failed", `could not write ${filePath}: ${(error as Error).message}`, { cause: error });
  }
}
