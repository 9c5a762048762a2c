// Downloads one file into a catalog entry's folder, resumably: the model vendors' GGUFs and the
// worker vendor's release assets. We do not use node-llama-cpp's downloader (ipull) because the
// catalogs need what it does not give us: a `.part` file we own and can find again after a crash or
// a failed job (so the next job resumes with `Range: bytes=N-` instead of starting a 40 GB file
// over), a SHA-256 computed while the bytes arrive (so the file never has to be read twice and a
// corrupt one never becomes `available`), and progress reported into the job that asked, throttled.
// Built on Node's fetch and fs: bytes go to `<file>.part`, which is renamed to `<file>` only once
// its size and SHA-256 are right.
import { createHash } from "node:crypto";
import { rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { backoffDelayMs } from "../../../shared/backoff.js";
import { describeError, RbeeError } from "../../../shared/errors.js";
import type { VendorContext } from "../../catalog/vendor-source.js";
import { DISK_MARGIN_BYTES, diskFullError, ensureDiskSpace, formatBytes, type FreeBytes, freeBytesOnDisk } from "./disk-space.js";
import { hashFileInto } from "./hash-file.js";
import { partRecordPath, readPartRecord, samePart, writePartRecord } from "./part-record.js";
import { PROGRESS_INTERVAL_MS, ProgressMeter } from "./progress-meter.js";
import { type AnswerHead, type ResolveHost, resolveHostWithDns } from "./guarded-get.js";
import { type ReceiveLimits, receiveBody, requestRange, StallGuard, tooLarge } from "./range-request.js";
import { isTransientStatus, retryAfterMs } from "./transient-status.js";
import { abortableSleep } from "../../../shared/abortable-sleep.js";
import { withoutQuery } from "../../../shared/redact-url.js";

export interface DownloadTarget {
  /** What to GET; redirects (the hub's to its CDN) are followed, each checked (guarded-get.ts). Its query is never stored. */
  url: string;
  /** Sent with every request, e.g. the hub's Authorization (fetch drops it on a cross-origin redirect). */
  headers: Record<string, string>;
  folder: string;
  /** The file's name in `folder`, already checked to be one safe segment. */
  fileName: string;
  /** Lowercase hex the file must hash to; null when the source publishes none. */
  expectedSha256: string | null;
  expectedBytes: number | null;
  /** What is downloaded, for messages, e.g. `hf:org/repo/x.gguf`. */
  label: string;
  /** The error for a refusing answer that asking again will not change (access, not found), in the caller's terms. */
  refusal: (response: AnswerHead) => RbeeError;
  gaveUp: DownloadGaveUp;
}

/** How a download that failed every retry is named to whoever asked; what it received is kept. */
export interface DownloadGaveUp {
  /** The error's code, e.g. `model_download_failed`. */
  code: string;
  /** What resumes the download, for the message, e.g. `asking for the model again`. */
  resumeBy: string;
}

export interface DownloadSettings {
  /** Failed tries in a row (a try that got bytes resets the count) before giving up, per call. */
  attempts: number;
  /** First retry waits about this long, ms; each further one doubles it, with jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A connection that delivers no byte for this long is dropped and tried again, ms. */
  stallTimeoutMs: number;
  progressIntervalMs: number;
  /** Free space to leave beyond the file, bytes. */
  diskMarginBytes: number;
  freeBytes: FreeBytes;
  /** Bytes written between two checks that the disk still has room, bytes (other writers fill disks too). */
  diskCheckEveryBytes: number;
  /** The largest file a download may fetch, bytes; refused as soon as the size is announced, else stopped there. */
  maxBytes: number;
  /** DNS for the redirect hops' hosts; tests answer with the addresses they need. */
  resolveHost: ResolveHost;
}

/** Default size cap, bytes: above the largest single-file GGUFs people run (a 405B model at 4 bits is ~230 GiB). */
export const MAX_DOWNLOAD_BYTES = 256 * 1024 ** 3;

export const DOWNLOAD_DEFAULTS: DownloadSettings = {
  attempts: 5,
  retryBaseMs: 1_000,
  retryMaxMs: 30_000,
  stallTimeoutMs: 60_000,
  progressIntervalMs: PROGRESS_INTERVAL_MS,
  diskMarginBytes: DISK_MARGIN_BYTES,
  freeBytes: freeBytesOnDisk,
  diskCheckEveryBytes: 64 * 1024 * 1024,
  maxBytes: MAX_DOWNLOAD_BYTES,
  resolveHost: resolveHostWithDns,
};

export interface DownloadResult {
  /** Lowercase hex SHA-256 of the file. */
  sha256: string;
  bytes: number;
}

/** A refusal worth asking again, with the wait the server asked for, if it did. */
class TransientRefusal extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

export async function downloadResumable(target: DownloadTarget, context: VendorContext, settings: DownloadSettings = DOWNLOAD_DEFAULTS): Promise<DownloadResult> {
  const finalPath = path.join(target.folder, target.fileName);
  const finished = await verifyFinished(finalPath, target, context);
  if (finished !== null) return finished;
  const partPath = `${finalPath}.part`;
  if (target.expectedBytes !== null && target.expectedBytes > settings.maxBytes) {
    throw tooLarge(target.label, `the source says it has ${formatBytes(target.expectedBytes)}`, settings.maxBytes);
  }
  const state = await adoptPart(partPath, target, context);
  const meter = new ProgressMeter(context.progress, state.bytes, settings.progressIntervalMs);
  let total = target.expectedBytes;
  let diskChecked = false;
  // Checked once the size is known: before the first request when the source published it, else
  // when the first answer tells it (a plain URL's Content-Length).
  const checkDisk = async (totalBytes: number | null) => {
    if (diskChecked || totalBytes === null) return;
    const { freeBytes, diskMarginBytes: marginBytes } = settings;
    await ensureDiskSpace({ folder: target.folder, totalBytes, presentBytes: state.bytes, label: target.label, freeBytes, marginBytes });
    diskChecked = true;
  };
  // While writing: the rest of the file (or, its size unknown, the margin alone) must still fit.
  const duringWrite = () => ({
    folder: target.folder,
    totalBytes: Math.max(total ?? 0, state.bytes),
    presentBytes: state.bytes,
    label: target.label,
    freeBytes: settings.freeBytes,
    marginBytes: settings.diskMarginBytes,
    received: state.bytes,
    resumeBy: target.gaveUp.resumeBy,
  });
  const limits: ReceiveLimits = {
    maxBytes: settings.maxBytes,
    diskCheckEveryBytes: settings.diskCheckEveryBytes,
    checkDisk: () => ensureDiskSpace(duringWrite()),
    diskFull: (cause) => diskFullError(duringWrite(), cause),
  };
  await checkDisk(total);
  let failures = 0;
  for (;;) {
    const before = state.bytes;
    const guard = new StallGuard(context.signal, settings.stallTimeoutMs);
    try {
      const answer = await requestRange(target, state, guard.signal, settings.resolveHost);
      if (answer.kind === "complete") break;
      if (answer.kind === "refused") {
        const { status, statusText } = answer.response;
        if (isTransientStatus(status)) throw new TransientRefusal(`the server answered ${status} ${statusText}`, retryAfterMs(answer.response.headers.get("retry-after")));
        throw target.refusal(answer.response);
      }
      if (answer.kind === "mismatch") {
        await startOver(partPath, target, null, state);
        throw new Error(`${answer.why}; starting over from byte 0`);
      }
      try {
        if (answer.fromStart) {
          if (state.bytes > 0) context.narrate("restart", `${target.label}: the server sent the whole file instead of resuming at byte ${state.bytes}; starting over`);
          await startOver(partPath, target, answer.validator, state);
        }
        if (target.expectedBytes !== null && answer.total !== null && answer.total !== target.expectedBytes) {
          // Every try would end the same way, the part growing past or short of the listed size.
          await discardPart(partPath);
          throw new RbeeError(
            502,
            "size_mismatch",
            `${target.label}: the download server says the file has ${answer.total} bytes, but the source lists it with ${target.expectedBytes}; nothing of it was kept. The source's listing is wrong or changed meanwhile: ask again later`,
          );
        }
        total = target.expectedBytes ?? answer.total;
        if (total !== null && total > settings.maxBytes) throw tooLarge(target.label, `the server announced ${formatBytes(total)}`, settings.maxBytes);
        await checkDisk(total);
        await receiveBody(answer.response, partPath, state, total, meter, guard, limits);
      } finally {
        // A body not read to its end holds its connection; let it go now.
        answer.response.body.discard();
      }
      break;
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason instanceof Error ? context.signal.reason : error;
      if (error instanceof RbeeError) throw error;
      // A stall shows as the connection's own error ("aborted"); say why it was dropped instead.
      if (guard.signal.aborted && guard.signal.reason instanceof Error) error = guard.signal.reason;
      failures = state.bytes > before ? 1 : failures + 1;
      if (failures >= settings.attempts) {
        throw new RbeeError(
          502,
          target.gaveUp.code,
          `${target.label}: the download failed ${failures} times in a row (last: ${describeError(error)}); ` +
            (state.bytes === 0 ? `no byte of it arrived, so ${target.gaveUp.resumeBy} starts it afresh` : `the ${formatBytes(state.bytes)} received are kept, so ${target.gaveUp.resumeBy} resumes from there`),
          { cause: error },
        );
      }
      // A server that says when to come back (a 429 or 503 with Retry-After) is asked no sooner.
      const askedMs = error instanceof TransientRefusal ? error.retryAfterMs : undefined;
      const delayMs = Math.max(backoffDelayMs(failures - 1, { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs }), askedMs ?? 0);
      const asked = askedMs === undefined ? "" : ` (it asked for ${Math.ceil(askedMs / 1000)} s)`;
      context.narrate("retry", `${target.label}: ${describeError(error)} (at byte ${state.bytes}); resuming in ${delayMs} ms${asked}, try ${failures + 1} of ${settings.attempts}`);
      await abortableSleep(delayMs, context.signal);
      meter.restart(state.bytes);
    } finally {
      guard.dispose();
    }
  }
  meter.finish(state.bytes, total ?? state.bytes);
  return settle(finalPath, partPath, target, state, total);
}

/** The bytes of the part on disk and their running hash; shared with the range requests. */
export interface PartState {
  bytes: number;
  hash: ReturnType<typeof createHash>;
  /** Sent as `If-Range` when resuming; null when the server gave no strong validator. */
  validator: string | null;
}

/**
 * A finished file from an earlier attempt (renamed, then the entry failed later) that is still
 * right. Only a published SHA-256 can say so: without one (a plain URL) the file may be the very
 * thing that failed, or stale, so it is fetched again.
 */
async function verifyFinished(finalPath: string, target: DownloadTarget, context: VendorContext): Promise<DownloadResult | null> {
  if ((await stat(finalPath).catch(() => null)) === null) return null;
  if (target.expectedSha256 === null) {
    await rm(finalPath, { force: true });
    return null;
  }
  const hash = createHash("sha256");
  const bytes = await hashFileInto(finalPath, hash, context.signal);
  const sha256 = hash.digest("hex");
  if (sha256 === target.expectedSha256 && (target.expectedBytes === null || bytes === target.expectedBytes)) {
    context.narrate("verify", `${target.label}: the file from an earlier attempt is complete (SHA-256 ${sha256}); not downloading it again`);
    return { sha256, bytes };
  }
  await rm(finalPath, { force: true });
  return null;
}

/** Picks up the part an earlier attempt left when it is of the same file, hashing what it holds. */
async function adoptPart(partPath: string, target: DownloadTarget, context: VendorContext): Promise<PartState> {
  const state: PartState = { bytes: 0, hash: createHash("sha256"), validator: null };
  const size = (await stat(partPath).catch(() => null))?.size ?? 0;
  const record = size > 0 ? await readPartRecord(partPath) : null;
  const wanted = { url: withoutQuery(target.url), sha256: target.expectedSha256, bytes: target.expectedBytes };
  if (size > 0 && samePart(record, wanted) && (target.expectedBytes === null || size <= target.expectedBytes)) {
    context.narrate("resume", `${target.label}: ${formatBytes(size)} arrived in an earlier attempt; checking them before resuming from there`);
    state.bytes = await hashFileInto(partPath, state.hash, context.signal);
    state.validator = record?.validator ?? null;
    return state;
  }
  if (size > 0) context.narrate("restart", `${target.label}: the partial file an earlier attempt left is of another version; starting over`);
  await startOver(partPath, target, null, state);
  return state;
}

async function startOver(partPath: string, target: DownloadTarget, validator: string | null, state: PartState): Promise<void> {
  await writePartRecord(partPath, { url: withoutQuery(target.url), sha256: target.expectedSha256, bytes: target.expectedBytes, validator });
  await writeFile(partPath, "");
  state.bytes = 0;
  state.hash = createHash("sha256");
  state.validator = validator;
}

/** Deletes a part file that cannot be resumed, with its record. */
async function discardPart(partPath: string): Promise<void> {
  await Promise.all([rm(partPath, { force: true }), rm(partRecordPath(partPath), { force: true })]);
}

/** Checks size and SHA-256, then renames the part to its final name; a wrong part is deleted. */
async function settle(finalPath: string, partPath: string, target: DownloadTarget, state: PartState, total: number | null): Promise<DownloadResult> {
  const sha256 = state.hash.digest("hex");
  // The hash and the count are of the bytes this download wrote; the file must hold those alone.
  // A second writer (a hive sharing this cache whose lock on the entry this one lost) makes it longer.
  const onDisk = (await stat(partPath)).size;
  if (onDisk !== state.bytes) {
    await discardPart(partPath);
    throw new RbeeError(
      409,
      "download_conflict",
      `${target.label}: the partial file holds ${onDisk} bytes where this download wrote ${state.bytes}: another process wrote to it too (a hive sharing this cache folder); it was deleted, ask again to download it afresh`,
    );
  }
  if (total !== null && state.bytes !== total) {
    await discardPart(partPath);
    throw new RbeeError(502, "size_mismatch", `${target.label}: got ${state.bytes} bytes but expected ${total}; the partial file was deleted, ask again to download it afresh`);
  }
  if (target.expectedSha256 !== null && sha256 !== target.expectedSha256) {
    await discardPart(partPath);
    throw new RbeeError(
      502,
      "checksum_mismatch",
      `${target.label}: the downloaded file's SHA-256 is ${sha256} but the source published ${target.expectedSha256}; the file was deleted. Ask again to download it afresh; if it happens again, a proxy or the source's copy is corrupt`,
    );
  }
  await rename(partPath, finalPath);
  await rm(partRecordPath(partPath), { force: true });
  return { sha256, bytes: state.bytes };
}

