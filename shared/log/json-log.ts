// The one logger of the hive and the worker: JSON lines (time, level, role, msg, request_id when
// there is one, then the event's own fields) that a log shipper reads as they are, or, when the
// output is a terminal, the same facts as one readable line. The queen writes its own JSON line
// per request; `request_id` (the queen's relay id, sent as X-Request-Id) joins the three roles'
// lines for one request. Used by hive/connect-command.ts and worker/main.ts.
import { UsageError } from "../usage-error.js";

export type LogLevel = "info" | "warn" | "error";
export type LogRole = "hive" | "worker";
export type LogFormat = "json" | "text";

/** An event's facts, snake_case as the queen's line has them: request_id, worker, status, duration_ms, … */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** What code that logs is given: a message a person reads, and the facts a program reads. */
export type LogFn = (msg: string, fields?: LogFields) => void;

export interface Logger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** RBEE_LOG_FORMAT picks the format; unset, a terminal gets text and anything else (a file, a pipe, journald) JSON. */
export const LOG_FORMAT_ENV = "RBEE_LOG_FORMAT";

/**
 * Refuses an RBEE_LOG_FORMAT that is set to neither format (a typo such as `jsn`), naming it: the
 * hive and `npm start` check it before they start, so a typo is not read as "the default" unseen.
 */
export function checkLogFormat(env: Readonly<Record<string, string | undefined>>): void {
  const chosen = env[LOG_FORMAT_ENV];
  if (chosen !== undefined && chosen !== "" && chosen !== "json" && chosen !== "text") {
    throw new UsageError(`${LOG_FORMAT_ENV}: expected json or text, got '${chosen}'`);
  }
}

export function logFormatFor(output: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): LogFormat {
  const chosen = env[LOG_FORMAT_ENV];
  if (chosen === "json" || chosen === "text") return chosen;
  return output.isTTY === true ? "text" : "json";
}

export interface LoggerOptions {
  role: LogRole;
  format: LogFormat;
  /** Takes one finished line, without its newline. */
  write: (line: string) => void;
  /** Default `() => new Date()`. */
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const now = options.now ?? (() => new Date());
  const at =
    (level: LogLevel): LogFn =>
    (msg, fields = {}) => {
      const time = now().toISOString();
      options.write(options.format === "json" ? jsonLine(time, level, options.role, msg, fields) : textLine(time, level, options.role, msg, fields));
    };
  return { info: at("info"), warn: at("warn"), error: at("error") };
}

function jsonLine(time: string, level: LogLevel, role: LogRole, msg: string, fields: LogFields): string {
  // The fixed keys first; a field of the same name is dropped, never overwrites them.
  return JSON.stringify({ time, level, role, msg, ...definedFields(fields) });
}

/** `12:00:01.234 warn  hive: msg request_id=req_1 status=200`: what a person at a terminal reads. */
function textLine(time: string, level: LogLevel, role: LogRole, msg: string, fields: LogFields): string {
  const facts = Object.entries(definedFields(fields)).map(([key, value]) => `${key}=${typeof value === "string" && /[\s"=]/.test(value) ? JSON.stringify(value) : String(value)}`);
  return [`${time.slice(11, 23)} ${level.padEnd(5)} ${role}: ${msg}`, ...facts].join(" ");
}

function definedFields(fields: LogFields): LogFields {
  return Object.fromEntries(Object.entries(fields).filter(([key, value]) => value !== undefined && !RESERVED.has(key)));
}

const RESERVED = new Set(["time", "level", "role", "msg"]);

/** What a person reads of a log line: a JSON line's `msg`, any other line as it is (a worker's log file, npm start's output). */
export function logMessageOf(line: string): string {
  if (!line.startsWith("{")) return line;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === "object" && parsed !== null && "msg" in parsed && typeof parsed.msg === "string" ? parsed.msg : line;
  } catch {
    return line;
  }
}
