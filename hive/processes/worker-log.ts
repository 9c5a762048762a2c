// A worker's output goes to `<logDir>/<worker id>.log` (a pipe to a hive that is gone would kill
// it with EPIPE). When a worker dies, the end of that file is what a person needs to know why.
import { open } from "node:fs/promises";
import path from "node:path";
import { logMessageOf } from "../../shared/log/json-log.js";
import { type FreeBytes, freeBytesOnDisk } from "../provisioners/download/disk-space.js";

/** Lines of the log kept to explain a worker's end. */
const LAST_WORDS_LINES = 4;
/** Lines at the log's end looked through for trouble: older ones are not about this end. */
const TROUBLE_WINDOW_LINES = 50;
/** The logger's levels that say nothing went wrong. */
const ROUTINE_LEVELS: ReadonlySet<unknown> = new Set(["debug", "info"]);

/** The worker's log file; the id is validated as wrk_<alphanumerics> before it gets here, and basename keeps it in logDir regardless. */
export function workerLogFile(logDir: string, workerId: string): string {
  return path.join(logDir, `${path.basename(workerId)}.log`);
}

/** Free bytes under which an empty log is put down to a full disk. */
const FULL_DISK_BYTES = 1024 * 1024;

/**
 * The messages of the log's last few lines, joined; "no output" for an empty or missing log, and
 * why where the log's disk is full: a worker that cannot write even its log exits saying nothing.
 */
export async function lastWords(logFile: string, freeBytes: FreeBytes = freeBytesOnDisk): Promise<string> {
  const words = messagesOf(await lastLines(logFile, LAST_WORDS_LINES));
  if (words !== "") return words;
  const folder = path.dirname(logFile);
  const free = await freeBytes(folder).catch(() => undefined);
  return free !== undefined && free < FULL_DISK_BYTES ? `no output: the disk holding ${folder} is full (${free} bytes free), so it could not even write its log; free some space` : "no output";
}

/**
 * Why a worker that was serving may have ended: the messages of the last few lines near the log's
 * end that are not routine (warnings and errors, and output that is not the logger's: a native
 * crash, a stack trace), or that there were none. A worker killed from outside (SIGKILL, the
 * kernel out of memory) leaves only its request lines, which would say nothing.
 */
export async function troubleWords(logFile: string): Promise<string> {
  const trouble = (await lastLines(logFile, TROUBLE_WINDOW_LINES)).filter((line) => line !== "" && !isRoutine(line));
  return messagesOf(trouble.slice(-LAST_WORDS_LINES)) || "no warning or error at the end of its log";
}

/** How much of the log's end is read for its last lines: a log holds up to WORKER_LOG_CAP_BYTES. */
const TAIL_BYTES = 256 * 1024;

/** The log's last `count` lines (within its last TAIL_BYTES); none for a missing log. */
async function lastLines(logFile: string, count: number): Promise<string[]> {
  const handle = await open(logFile, "r").catch(() => undefined);
  if (!handle) return [];
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(length), position: size - length });
    const lines = buffer.subarray(0, bytesRead).toString("utf8").trim().split("\n");
    // A tail that starts mid-line starts with a piece of a line: not one of its lines.
    return (length < size ? lines.slice(1) : lines).slice(-count);
  } finally {
    await handle.close();
  }
}

/** The lines' messages (a logger line's `msg`, any other line whole), joined. */
function messagesOf(lines: readonly string[]): string {
  return lines.map(logMessageOf).join(" | ");
}

/** A logger line at a routine level, or a protocol line (`{"event":"ready",…}`) the hive reads. */
function isRoutine(line: string): boolean {
  if (!line.startsWith("{")) return false;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== "object" || parsed === null) return false;
    return "level" in parsed ? ROUTINE_LEVELS.has(parsed.level) : "event" in parsed;
  } catch {
    return false;
  }
}
