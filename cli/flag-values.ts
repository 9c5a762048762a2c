// Options of `rbee` commands whose values are checked where they are parsed: a value the queen
// would refuse (a count that is not a number, a scope or status it does not know, a day that is
// not a day) is a usage error (exit 2) naming the flag and the value, never a request.
import { Option } from "commander";
import { ModelName } from "../shared/protocol/worker-heartbeat.js";
import { UsageError } from "../shared/usage-error.js";

/** `--flag <value>` whose value `parse` turns into a T, or refuses (undefined) as not `expected`. */
function checkedOption<T>(flags: string, description: string, expected: string, parse: (text: string) => T | undefined): Option {
  const option = new Option(flags, description);
  return option.argParser((text: string, previous: unknown) => {
    // Commander keeps the last of a repeated flag: `--scopes inference --scopes admin` would
    // quietly make an admin-only key. The first time, `previous` is the default (or nothing).
    if (previous !== undefined && previous !== option.defaultValue) throw new UsageError(`${option.long ?? flags} was given twice ('${text}' after an earlier value): give it once`);
    const value = parse(text);
    if (value === undefined) throw new UsageError(`${option.long ?? flags}: expected ${expected}, got '${text}'`);
    return value;
  });
}

/** Whole numbers only: `Number("1e3")` and `Number(" 7 ")` would pass a looser check. */
export function parsePositiveInteger(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= 1 ? value : undefined;
}

/** A UTC day as the queen stores usage: YYYY-MM-DD, and a day that exists (no 2026-02-30). */
export function parseUtcDay(text: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text) ? text : undefined;
}

/** `--flag <n>`: a whole number from 1, and at most `max` when the queen takes no more. */
export function positiveIntegerOption(flags: string, description: string, max?: number): Option {
  if (max === undefined) return checkedOption(flags, description, "a positive integer", parsePositiveInteger);
  return checkedOption(flags, description, `a positive integer up to ${max}`, (text) => {
    const value = parsePositiveInteger(text);
    return value !== undefined && value <= max ? value : undefined;
  });
}

/**
 * `--flag <n|none>`: a whole number from 1 up to `max`, or "none" (take the setting away; kept as
 * the word, for commander turns a parsed null into the flag's raw text).
 */
export function positiveIntegerOrNoneOption(flags: string, description: string, max: number): Option {
  return checkedOption(flags, description, `a positive integer up to ${max}, or none`, (text): number | "none" | undefined => {
    if (text === "none") return "none";
    const value = parsePositiveInteger(text);
    return value !== undefined && value <= max ? value : undefined;
  });
}

/**
 * `--flag <a,b|all>`: a comma-separated list of model names (each as `model` fields take it), or
 * "all" (no list: every model).
 */
export function modelListOption(flags: string, description: string): Option {
  return checkedOption(flags, description, "a comma-separated list of model names, or all", (text): string[] | "all" | undefined => {
    if (text === "all") return "all";
    const names = text.split(",").map((name) => name.trim());
    return names.length > 0 && names.every((name) => ModelName.safeParse(name).success) && new Set(names).size === names.length ? names : undefined;
  });
}

export function utcDayOption(flags: string, description: string): Option {
  return checkedOption(flags, description, "a day as YYYY-MM-DD", parseUtcDay);
}

export function choiceOption(flags: string, description: string, choices: readonly string[]): Option {
  return checkedOption(flags, description, `one of ${choices.join(", ")}`, (text) => (choices.includes(text) ? text : undefined));
}

/** A comma-separated list, each item one of `choices`: `--scopes inference,admin`. */
export function choiceListOption(flags: string, description: string, choices: readonly string[]): Option {
  const parse = (text: string) => {
    const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
    return items.length > 0 && items.every((item) => choices.includes(item)) ? items : undefined;
  };
  return checkedOption(flags, description, `a comma-separated list of ${choices.join(", ")}`, parse);
}
