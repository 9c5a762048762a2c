// Keeps the dates of every grammar the worker generates under (a string of format `date` or
// `date-time`) real dates. node-llama-cpp's date rule takes any year of four digits, any month
// 01–12 and any day 01–31 with it: `2023-02-31`, `0000-01-01`, which Python's datetime, pydantic
// and zod refuse. The rule here takes years 1000–9999, and days only up to each month's length;
// the 29th of February is never written (a grammar cannot tell leap years cheaply), a date the
// schema allows but the answer never needs. grammar-tightening.ts applies it to every grammar.

/** The date node-llama-cpp 3.21 writes into its `date` and `date-time` format rules. */
export const LOOSE_DATE = '[0-9]{4} "-" ("0" [1-9] | "1" [012]) "-" ("0" [1-9] | [12] [0-9] | "3" [01])';

const REAL_DATE =
  '[1-9] [0-9]{3} "-" (("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01]) | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | "02" "-" ("0" [1-9] | "1" [0-9] | "2" [0-8]))';

/** `grammar` with every date rule taking real dates only; a grammar without one is left as it is. */
export function tightenDateRules(grammar: string): string {
  return grammar.replaceAll(LOOSE_DATE, REAL_DATE);
}
