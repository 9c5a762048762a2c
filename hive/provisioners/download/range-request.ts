// One try of a resumable download: the GET (with `Range: bytes=N-` and `If-Range` when part of the
// file is already on disk), what its answer means for the part, and receiving its body into the
// part while hashing it. A connection that goes quiet is dropped by a stall guard, so a dead
// socket becomes a retry instead of a job that hangs forever. The GET goes through guarded-get.ts
// (every redirect hop checked) and the body through body-queue.ts (no byte that arrived is lost).
import { open } from "node:fs/promises";
import path from "node:path";
import { RbeeError } from "../../../shared/errors.js";
import { guardedGet, type HttpAnswer, type ResolveHost } from "./guarded-get.js";
import type { ProgressMeter } from "./progress-meter.js";
import { writeAll } from "./write-all.js";
import type { DownloadTarget, PartState } from "./resumable-download.js";

export type RangeAnswer =
  /** The part already holds the whole file (the server answered 416 for the byte after its end). */
  | { kind: "complete" }
  /** A 4xx/5xx: for the caller to turn into an error or a retry. */
  | { kind: "refused"; response: HttpAnswer }
  /** The server answered a range the part cannot be continued with; start over. */
  | { kind: "mismatch"; why: string }
  /** Bytes to append; `fromStart` when they are the whole file, so the part must be emptied first. */
  | { kind: "body"; response: HttpAnswer; total: number | null; validator: string | null; fromStart: boolean };

/** Aborts a try when no byte arrived for `ms`; `signal` also follows the job's own signal. */
export class StallGuard {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(parent: AbortSignal, private readonly ms: number) {
    this.signal = AbortSignal.any([parent, this.controller.signal]);
    this.arm();
  }

  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new Error(`no data arrived for ${this.ms} ms`)), this.ms);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

export async function requestRange(target: DownloadTarget, state: PartState, signal: AbortSignal, resolveHost: ResolveHost): Promise<RangeAnswer> {
  // identity: with gzip, fetch would hand over decoded bytes whose offsets match nothing on the server.
  const headers: Record<string, string> = { ...target.headers, "accept-encoding": "identity" };
  if (state.bytes > 0) {
    headers.range = `bytes=${state.bytes}-`;
    if (state.validator !== null) headers["if-range"] = state.validator;
  }
  const response = await guardedGet({ url: target.url, headers, signal, resolveHost });
  if (response.status === 200) {
    return { kind: "body", response, total: contentLength(response.headers), validator: strongValidator(response.headers), fromStart: true };
  }
  if (response.status === 206 && state.bytes > 0) {
    const range = parseContentRange(response.headers.get("content-range"));
    if (range?.start === state.bytes) return { kind: "body", response, total: range.total, validator: state.validator, fromStart: false };
    await discardBody(response);
    return { kind: "mismatch", why: `the server sent bytes from ${range?.start ?? "an unknown offset"} when asked for byte ${state.bytes}` };
  }
  if (response.status === 416 && state.bytes > 0) {
    const total = parseContentRange(response.headers.get("content-range"))?.total ?? null;
    await discardBody(response);
    if (total === state.bytes) return { kind: "complete" };
    return { kind: "mismatch", why: `the server refused the range from byte ${state.bytes}${total === null ? "" : ` of a ${total}-byte file`}` };
  }
  if ((response.status >= 200 && response.status < 300) || response.status === 206) {
    await discardBody(response);
    return { kind: "mismatch", why: `the server answered ${response.status}, which is not the file` };
  }
  await discardBody(response);
  return { kind: "refused", response };
}

/** While a body is received: the size cap and the periodic free-space check. */
export interface ReceiveLimits {
  /** The most bytes a download may have, bytes. */
  maxBytes: number;
  /** Bytes written between two checks of the free space. */
  diskCheckEveryBytes: number;
  /** Throws when the disk no longer has room for the rest (and the margin). */
  checkDisk: () => Promise<void>;
  /** The error for a write that found the disk full (ENOSPC), naming the folder and the space needed. */
  diskFull: (cause: RbeeError) => RbeeError;
}

/** Appends the body to the part, hashing it; throws when the connection ends early. */
export async function receiveBody(response: HttpAnswer, partPath: string, state: PartState, total: number | null, meter: ProgressMeter, guard: StallGuard, limits: ReceiveLimits): Promise<void> {
  const handle = await open(partPath, "a");
  let nextDiskCheck = state.bytes + limits.diskCheckEveryBytes;
  try {
    for await (const chunk of response.body.chunks()) {
      guard.arm();
      if (total !== null && state.bytes + chunk.length > total) {
        throw new RbeeError(502, "size_mismatch", `the server sent more than the ${total} bytes the file has (for ${path.basename(partPath, ".part")})`);
      }
      if (state.bytes + chunk.length > limits.maxBytes) throw tooLarge(partPath, `more than ${limits.maxBytes} bytes arrived`, limits.maxBytes);
      await writeAll(handle, chunk, partPath).catch((error: unknown) => {
        throw error instanceof RbeeError && error.code === "insufficient_disk_space" ? limits.diskFull(error) : error;
      });
      state.hash.update(chunk); // after the write: the hash always covers exactly the bytes on disk
      state.bytes += chunk.length;
      meter.update(state.bytes, total);
      if (state.bytes >= nextDiskCheck) {
        await limits.checkDisk();
        nextDiskCheck = state.bytes + limits.diskCheckEveryBytes;
      }
    }
  } finally {
    await handle.close();
  }
  if (total !== null && state.bytes < total) throw new Error(`the connection closed at byte ${state.bytes} of ${total}`);
}

/** The error for a download over the size cap; the caller keeps nothing of it. */
export function tooLarge(what: string, why: string, maxBytes: number): RbeeError {
  return new RbeeError(
    413,
    "download_too_large",
    `${what}: ${why}, over this hive's download limit of ${maxBytes} bytes; raise RBEE_MAX_DOWNLOAD_BYTES on the hive if the file really is that large`,
  );
}

async function discardBody(response: HttpAnswer): Promise<void> {
  response.body.discard();
}

function contentLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

// `bytes 100-199/1000` gives start 100 and total 1000; an unknown total (`/` then `*`) gives null,
// and the unsatisfied-range form (`*` then `/1000`) a null start.
export function parseContentRange(value: string | null): { start: number | null; total: number | null } | null {
  const match = value?.match(/^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i);
  if (!match) return null;
  return { start: match[1] === undefined ? null : Number(match[1]), total: match[2] === undefined || match[2] === "*" ? null : Number(match[2]) };
}

/** A strong ETag or else Last-Modified, as `If-Range` accepts them; weak ETags cannot be used. */
function strongValidator(headers: Headers): string | null {
  const etag = headers.get("etag");
  if (etag !== null && !etag.startsWith("W/")) return etag;
  return headers.get("last-modified");
}
