// How `rbee` prints results: JSON for scripts (--json), aligned columns for people.
import { printable } from "../shared/printable.js";

/** Longest cell a table prints, in characters. */
const MAX_CELL_CHARS = 200;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export type Row = Record<string, string | number | boolean | null | undefined>;

/** Columns padded to their widest cell; `empty` when there are no rows, so silence never means "none". */
export function printTable(rows: readonly Row[], columns: readonly string[], empty: string): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const cells = rows.map((row) => columns.map((column) => cellText(row[column])));
  const widths = columns.map((column, index) => Math.max(column.length, ...cells.map((line) => (line[index] ?? "").length)));
  const line = (values: readonly string[]) => values.map((value, index) => value.padEnd(widths[index] ?? 0)).join("  ").trimEnd();
  process.stdout.write(`${[line(columns.map((column) => column.toUpperCase())), ...cells.map(line)].join("\n")}\n`);
}

/** A cell as one line: what the queen holds (a key's name, a hive's error) may carry control characters. */
function cellText(value: Row[string]): string {
  if (value === null || value === undefined) return "-";
  return printable(String(value), MAX_CELL_CHARS);
}

/** One record as `field  value` lines, every field of it: nested values as compact JSON. */
export function printDetails(record: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(record).map((field) => field.length));
  const text = (value: unknown) => (value === null || value === undefined ? "-" : typeof value === "object" ? JSON.stringify(value) : printable(String(value)));
  process.stdout.write(`${Object.entries(record).map(([field, value]) => `${field.padEnd(width)}  ${text(value)}`).join("\n")}\n`);
}

/** A listing as JSON (--json: the queen's objects whole) or as a table of `toRow`'s columns. */
export function printListing<T>(json: boolean, items: readonly T[], toRow: (item: T) => Row, empty: string): void {
  if (json) {
    printJson(items);
    return;
  }
  const rows = items.map(toRow);
  printTable(rows, Object.keys(rows[0] ?? {}), empty);
}
