// Reads a size a person writes (`4GiB`, `512 MiB`, `1.5G`, `2147483648`) as a whole number of
// bytes, for the hive's --memory-budget. Binary units (K, M, G, T: 1024-based, with or without
// `i`/`B`), as memory is counted; a plain number is bytes.

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes, or undefined when `text` is no size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) return undefined;
  const [, amount = "", unit = ""] = match;
  const factor = UNITS[unit.toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Math.floor(Number(amount) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
