// `keep_alive`, as Ollama has it: how long the model stays loaded after this request. Seconds
// as a number, or a duration such as "10m", "1h30m", "45s", "500ms"; 0 unloads the model once
// the request is answered; a negative value keeps it loaded until it is stopped by hand. The
// queen reads it (its idle reaper) and strips it before relaying: the worker never sees it.
import { z } from "zod";

/** Longest keep-alive written out: a year. Anything longer is the same as forever. */
const MAX_KEEP_ALIVE_MS = 365 * 24 * 3600 * 1000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(-)?((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

export const KeepAlive = z.union([z.number().finite(), z.string().max(32)]).superRefine((value, ctx) => {
  if (parseKeepAliveMs(value) === undefined) {
    ctx.addIssue({ code: "custom", message: 'must be seconds (a number, -1 for forever) or a duration such as "10m", "1h" or "30s"' });
  }
});

/** The field as the request schemas add it. */
export const KeepAliveField = { keep_alive: KeepAlive.nullish() };

/** Milliseconds (Infinity: never unload), or undefined when `value` is no keep-alive. */
export function parseKeepAliveMs(value: number | string): number | undefined {
  if (typeof value === "number") return value < 0 ? Number.POSITIVE_INFINITY : clamp(value * 1000);
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return parseKeepAliveMs(Number(text));
  const match = DURATION.exec(text);
  if (!match) return undefined;
  if (match[1] === "-") return Number.POSITIVE_INFINITY;
  let ms = 0;
  for (const [, amount = "0", unit = "s"] of (match[2] ?? "").matchAll(PART)) ms += Number(amount) * (UNIT_MS[unit] ?? 1000);
  return clamp(ms);
}

/** The request as the worker gets it: without keep_alive, which is the queen's business. */
export function withoutKeepAlive<T extends object>(request: T): Omit<T, "keep_alive"> {
  const { keep_alive: _queenOnly, ...rest } = request as T & { keep_alive?: unknown };
  return rest;
}

function clamp(ms: number): number {
  return ms > MAX_KEEP_ALIVE_MS ? Number.POSITIVE_INFINITY : Math.round(ms);
}
