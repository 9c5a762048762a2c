// A worker's output goes to `<logDir>/<worker id>.log` (a pipe to a hive that is gone would kill
// it with EPIPE). When a worker dies, the end of that file is what a person needs to know why.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { logMessageOf } from "../../shared/log/json-log.js";

/** Lines of the log kept to explain a worker's end. */
const LAST_WORDS_LINES = 4;

/** The worker's log file; the id is validated as wrk_<alphanumerics> before it gets here, and basename keeps it in logDir regardless. */
export function workerLogFile(logDir: string, workerId: string): string {
  return path.join(logDir, `${path.basename(workerId)}.log`);
}

/** The messages of the log's last few lines, joined; "no output" for an empty or missing log. */
export async function lastWords(logFile: string): Promise<string> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  return text.trim().split("\n").slice(-LAST_WORDS_LINES).map(logMessageOf).join(" | ") || "no output";
}
