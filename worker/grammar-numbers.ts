// Keeps the numbers of every grammar the worker generates under (response_format JSON and tool
// call arguments) within what the schema promises. node-llama-cpp's number rules allow exponents
// of up to 16 digits, so an "integer" may come out as `5E-3` (not an integer) and any number as
// `1E999…` (Infinity once parsed); in a tool call node-llama-cpp then fails its own validation of
// the arguments. grammar-tightening.ts applies it to every grammar.

/** Digits of the longest integer a grammar writes: within Number.MAX_SAFE_INTEGER (16 digits). */
const INTEGER_DIGITS = 15;
/** The largest integer a grammar writes (and, negated, the smallest). */
export const MAX_GRAMMAR_INTEGER = 10 ** INTEGER_DIGITS - 1;

/**
 * Integers lose their exponent and keep at most 15 digits (within Number.MAX_SAFE_INTEGER);
 * other numbers keep a two-digit exponent, far inside a double's range. Rules are matched by the
 * names node-llama-cpp 3.21 gives them; a grammar without them is left as it is.
 */
export function tightenNumberRules(grammar: string): string {
  return grammar
    .replace(/^integer-number-rule ::= .*$/m, `integer-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,${INTEGER_DIGITS - 1}})`)
    .replace(
      /^fractional-number-rule ::= .*$/m,
      `fractional-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,${INTEGER_DIGITS - 1}}) ("." [0-9]{1,15})? ([eE] [-+]? ("0" | [1-9] [0-9]?))?`,
    );
}
