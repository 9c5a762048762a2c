// Downloads one file over http(s) into a catalog folder: streamed to `<name>.part`, hashed on the
// way, checked against the expected sha256 when there is one, and only then renamed into place, so
// a file under its final name is always complete. Redirects are followed (GitHub sends release
// downloads to objects.githubusercontent.com with a 302).
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { describeError, RbeeError } from "../../../shared/errors.js";

/** How often progress is reported while bytes arrive, in ms. */
const PROGRESS_INTERVAL_MS = 250;

export interface DownloadRequest {
  url: string;
  /** Absolute path of the finished file; `<target>.part` while it downloads. */
  target: string;
  /** Lower-case hex; null when the publisher gave none (then only recorded, not checked). */
  expectedSha256: string | null;
  /** The size the publisher lists, checked too; null when unknown. */
  expectedBytes: number | null;
  signal: AbortSignal;
  progress(bytes: number, total: number | null, bytesPerSecond: number): void;
}

export interface DownloadedFile {
  bytes: number;
  sha256: string;
}

export async function downloadFile(request: DownloadRequest): Promise<DownloadedFile> {
  const { url, target, signal } = request;
  if (!/^https?:\/\//.test(url)) throw new RbeeError(502, "worker_download_failed", `refusing to download '${url}': only http and https URLs are fetched`);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: "follow", headers: { "user-agent": "rbee-hive" } });
  } catch (error) {
    signal.throwIfAborted();
    throw new RbeeError(502, "worker_download_failed", `could not download ${url}: ${describeError(error)}; check the network and try again`, { cause: error });
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new RbeeError(502, "worker_download_failed", `downloading ${url} answered ${response.status} ${response.statusText}; try again later`);
  }
  const lengthHeader = Number(response.headers.get("content-length"));
  const total = Number.isFinite(lengthHeader) && lengthHeader > 0 ? lengthHeader : null;
  const partial = `${target}.part`;
  const hash = createHash("sha256");
  const meter = progressMeter(total, request.progress);
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      meter.add(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), tap, createWriteStream(partial), { signal });
  } catch (error) {
    await rm(partial, { force: true });
    signal.throwIfAborted();
    throw new RbeeError(502, "worker_download_failed", `downloading ${url} broke off after ${meter.bytes} bytes: ${describeError(error)}; try again`, { cause: error });
  }
  meter.finish();
  const sha256 = hash.digest("hex");
  if (request.expectedBytes !== null && meter.bytes !== request.expectedBytes) {
    await rm(partial, { force: true });
    throw new RbeeError(502, "worker_download_failed", `${url} arrived with ${meter.bytes} bytes, but its publisher lists ${request.expectedBytes}; try again`);
  }
  if (request.expectedSha256 !== null && sha256 !== request.expectedSha256) {
    await rm(partial, { force: true });
    throw new RbeeError(
      502,
      "checksum_mismatch",
      `${url} has sha256 ${sha256}, but its publisher gave ${request.expectedSha256}; the download was corrupted or the file was replaced. Nothing was installed; try again, and tell the publisher if it repeats`,
    );
  }
  await rename(partial, target);
  return { bytes: meter.bytes, sha256 };
}

/** Counts bytes and reports them at most every PROGRESS_INTERVAL_MS, and once at the end. */
function progressMeter(total: number | null, report: DownloadRequest["progress"]) {
  const started = performance.now();
  let lastReport = started;
  const meter = {
    bytes: 0,
    add(count: number): void {
      meter.bytes += count;
      const now = performance.now();
      if (now - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = now;
        report(meter.bytes, total, rate(now));
      }
    },
    finish(): void {
      report(meter.bytes, total, rate(performance.now()));
    },
  };
  const rate = (now: number): number => Math.round(meter.bytes / Math.max((now - started) / 1000, 0.001));
  return meter;
}
