// GBNF expressions for numbers within a JSON Schema's bounds (`minimum`, `maximum`,
// `exclusiveMinimum`, `exclusiveMaximum`), which node-llama-cpp's schema grammar has no rule for:
// OpenAI-style strict schemas carry them (pydantic `Field(ge=0)`, zod `.positive()`), and without
// a grammar for them the worker must refuse such a schema. Numbers are spelled as the worker's own
// number rules spell them (grammar-numbers.ts): no exponent, no leading zeros, no "-0", an integer
// part of at most 15 digits, a fraction of 1–15 digits.
//
// Every bound, whole or fractional, is enforced exactly: a bound becomes a count of the smallest
// step a grammar writes (1 for integers, 10^-15 for numbers), and the range between two counts is
// written digit by digit, split by the number of digits, as llama.cpp's json-schema-to-grammar does.
import { MAX_GRAMMAR_INTEGER } from "./grammar-numbers.js";
import type { GrammarResult } from "./scalar-grammar.js";

export interface NumberBounds {
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** Digits of a number's fraction, at most. */
const FRACTION_DIGITS = 15;
const ANY_FRACTION = "9".repeat(FRACTION_DIGITS);
const NO_FRACTION = "0".repeat(FRACTION_DIGITS);

/** How values are counted: an integer grammar counts ones, a number grammar 10^-15ths. */
interface Scale {
  /** Decimal digits after the point that one count stands for. */
  fractionDigits: number;
  /** The word for a value in messages. */
  noun: string;
  /** The values a grammar can write, in messages. */
  writable: string;
  /** The values `count` up to `upTo` (both ≥ 0) as GBNF alternatives. */
  magnitudes: (count: bigint, upTo: bigint) => string[];
}

const INTEGERS: Scale = { fractionDigits: 0, noun: "integer", writable: "integer", magnitudes: integerAlternatives };
const NUMBERS: Scale = {
  fractionDigits: FRACTION_DIGITS,
  noun: "number",
  writable: `number of at most ${FRACTION_DIGITS} decimals`,
  magnitudes: fractionalAlternatives,
};

/** JSON integers (no exponent, no leading zeros, no "-0") within the bounds and within ±MAX_GRAMMAR_INTEGER. */
export function integerRangeGrammar(bounds: NumberBounds): GrammarResult {
  return rangeGrammar(bounds, INTEGERS);
}

/** JSON numbers (optional fraction of 1–15 digits, no exponent) within the bounds. */
export function numberRangeGrammar(bounds: NumberBounds): GrammarResult {
  return rangeGrammar(bounds, NUMBERS);
}

/** One end of the range, in counts of the scale; `keyword` names the bound it came from, if any. */
interface End {
  count: bigint;
  keyword?: keyof NumberBounds;
}

function rangeGrammar(bounds: NumberBounds, scale: Scale): GrammarResult {
  const invalid = invalidBound(bounds);
  if (invalid !== undefined) return { problem: invalid };
  const one = 10n ** BigInt(scale.fractionDigits);
  // Absent bounds are the largest magnitude a grammar writes: 15 integer digits (and 15 fraction digits).
  const limit = BigInt(MAX_GRAMMAR_INTEGER) * one + (one - 1n);
  const lower = tightest([{ count: -limit }, ...lowerEnds(bounds, scale)], (a, b) => a.count > b.count);
  const upper = tightest([{ count: limit }, ...upperEnds(bounds, scale)], (a, b) => a.count < b.count);
  if (lower.count > upper.count) return { problem: emptyRangeProblem(bounds, lower, upper, scale) };
  const alternatives: string[] = [];
  // Negative values are "-" and a magnitude of at least one count: "-0" is never written.
  if (lower.count < 0n) alternatives.push(sequence('"-"', group(scale.magnitudes(max(-upper.count, 1n), -lower.count))));
  if (upper.count >= 0n) alternatives.push(...scale.magnitudes(max(lower.count, 0n), upper.count));
  return { grammar: group(alternatives) };
}

/** The keywords bounding a number or an integer. */
export const BOUND_KEYWORDS = ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"] as const;

function invalidBound(bounds: NumberBounds): string | undefined {
  for (const keyword of BOUND_KEYWORDS) {
    const value: unknown = bounds[keyword];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value)) return `${keyword} ${describe(value)}: expected a finite number`;
  }
  return undefined;
}

// A text is within a bound when the double it parses to is. `minimum v` takes every decimal from
// v's shortest spelling up (all parse to v or above); `exclusiveMinimum v` every decimal from the
// shortest spelling of the next double above v. Merely "below 100 as a decimal" would let
// 99.999999999999999 through `exclusiveMaximum 100`: it parses to 100.
function lowerEnds(bounds: NumberBounds, scale: Scale): End[] {
  const ends: End[] = [];
  if (bounds.minimum !== undefined) ends.push({ count: toCount(bounds.minimum, scale, "up"), keyword: "minimum" });
  if (bounds.exclusiveMinimum !== undefined) {
    ends.push({ count: toCount(nextDouble(bounds.exclusiveMinimum, 1), scale, "up"), keyword: "exclusiveMinimum" });
  }
  return ends;
}

function upperEnds(bounds: NumberBounds, scale: Scale): End[] {
  const ends: End[] = [];
  if (bounds.maximum !== undefined) ends.push({ count: toCount(bounds.maximum, scale, "down"), keyword: "maximum" });
  if (bounds.exclusiveMaximum !== undefined) {
    ends.push({ count: toCount(nextDouble(bounds.exclusiveMaximum, -1), scale, "down"), keyword: "exclusiveMaximum" });
  }
  return ends;
}

function tightest(ends: End[], tighter: (a: End, b: End) => boolean): End {
  return ends.reduce((best, end) => (tighter(end, best) ? end : best));
}

function emptyRangeProblem(bounds: NumberBounds, lower: End, upper: End, scale: Scale): string {
  const limit = `${MAX_GRAMMAR_INTEGER}${scale.fractionDigits > 0 ? `.${"9".repeat(scale.fractionDigits)}` : ""}`;
  const [low, high] = [lower.keyword, upper.keyword];
  if (low !== undefined && high !== undefined) {
    if ((bounds[low] ?? 0) > (bounds[high] ?? 0)) return `${name(bounds, low)} above ${name(bounds, high)}: no value fits`;
    return `${name(bounds, low)} and ${name(bounds, high)}: no ${scale.writable} fits`;
  }
  if (low !== undefined) return `${name(bounds, low)}: above ${limit}, the largest ${scale.noun} a grammar writes`;
  if (high !== undefined) return `${name(bounds, high)}: below -${limit}, the smallest ${scale.noun} a grammar writes`;
  return "no value fits"; // never: without bounds the range is all a grammar writes
}

function name(bounds: NumberBounds, keyword: keyof NumberBounds): string {
  return `${keyword} ${describe(bounds[keyword])}`;
}

function describe(value: unknown): string {
  return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
}

/** The neighbouring double of `value` towards `direction` (+1 up, -1 down). */
function nextDouble(value: number, direction: 1 | -1): number {
  // Far beyond what a grammar writes, any bound acts alike; this keeps the neighbour finite.
  const clamped = Math.min(Math.max(value, -1e16), 1e16);
  if (clamped === 0) return direction * Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, clamped);
  // A double's bits, read as an integer, grow with its magnitude.
  view.setBigInt64(0, view.getBigInt64(0) + (clamped > 0 === direction > 0 ? 1n : -1n));
  return view.getFloat64(0);
}

/** `value` in counts of the scale, exactly as its shortest decimal spelling says, rounded `up` or `down` to a whole count. */
function toCount(value: number, scale: Scale, round: "up" | "down"): bigint {
  const clamped = Math.min(Math.max(value, -1e16), 1e16);
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(clamped));
  if (match === null) throw new Error(`unexpected spelling of a finite number: ${String(clamped)}`);
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  const negative = sign === "-";
  const digits = BigInt(whole + fraction) * (negative ? -1n : 1n);
  const shift = Number(exponent) - fraction.length + scale.fractionDigits;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  const quotient = digits / divisor; // truncates towards zero
  const remainder = digits % divisor;
  if (remainder === 0n) return quotient;
  if (round === "up") return remainder > 0n ? quotient + 1n : quotient;
  return remainder < 0n ? quotient - 1n : quotient;
}

// ---- integers: the digits of lo..hi -------------------------------------------------------------

/** The integers `lo`..`hi` (0 ≤ lo ≤ hi) as alternatives: one per run of lengths all of whose values are in. */
function integerAlternatives(lo: bigint, hi: bigint): string[] {
  const alternatives = lo === 0n ? ['"0"'] : [];
  const from = max(lo, 1n);
  let fullRunStart: number | undefined;
  for (let length = String(from).length; length <= String(hi).length && from <= hi; length++) {
    const first = 10n ** BigInt(length - 1);
    const last = first * 10n - 1n;
    const [start, end] = [max(from, first), hi < last ? hi : last];
    const full = start === first && end === last;
    if (full) {
      fullRunStart ??= length;
      continue;
    }
    if (fullRunStart !== undefined) alternatives.push(fullLengths(fullRunStart, length - 1));
    fullRunStart = undefined;
    alternatives.push(sameLengthRange(String(start), String(end)));
  }
  if (fullRunStart !== undefined) alternatives.push(fullLengths(fullRunStart, String(hi).length));
  return alternatives;
}

/** Every integer of `shortest` to `longest` digits. */
function fullLengths(shortest: number, longest: number): string {
  return sequence("[1-9]", digits(shortest - 1, longest - 1));
}

/** The digit strings `from`..`to` of one length (from ≤ to): a shared prefix, then one digit's low, middle and high cases. */
function sameLengthRange(from: string, to: string): string {
  if (from === to) return literal(from);
  let shared = 0;
  while (from[shared] === to[shared]) shared++;
  const [low, high] = [Number(from[shared]), Number(to[shared])];
  const [lowRest, highRest] = [from.slice(shared + 1), to.slice(shared + 1)];
  const width = lowRest.length;
  const lowWhole = /^0*$/.test(lowRest);
  const highWhole = /^9*$/.test(highRest);
  const alternatives: string[] = [];
  if (!lowWhole) alternatives.push(sequence(literal(String(low)), sameLengthRange(lowRest, "9".repeat(width))));
  const [middleLow, middleHigh] = [lowWhole ? low : low + 1, highWhole ? high : high - 1];
  if (middleLow <= middleHigh) alternatives.push(sequence(digitClass(middleLow, middleHigh), digits(width, width)));
  if (!highWhole) alternatives.push(sequence(literal(String(high)), sameLengthRange("0".repeat(width), highRest)));
  return sequence(shared > 0 ? literal(from.slice(0, shared)) : "", group(alternatives));
}

// ---- numbers: an integer part and the digits of a fraction ---------------------------------------

/** The numbers `lo`..`hi` counted in 10^-15ths (0 ≤ lo ≤ hi): the lowest integer part, the ones between, the highest. */
function fractionalAlternatives(lo: bigint, hi: bigint): string[] {
  const [lowWhole, lowFraction] = splitCount(lo);
  const [highWhole, highFraction] = splitCount(hi);
  if (lowWhole === highWhole) return [sequence(literal(String(lowWhole)), fractionSuffix(lowFraction, highFraction))];
  const alternatives: string[] = [];
  const lowIsWhole = lowFraction === NO_FRACTION;
  const highIsWhole = highFraction === ANY_FRACTION;
  if (!lowIsWhole) alternatives.push(sequence(literal(String(lowWhole)), fractionSuffix(lowFraction, ANY_FRACTION)));
  const [middleLow, middleHigh] = [lowIsWhole ? lowWhole : lowWhole + 1n, highIsWhole ? highWhole : highWhole - 1n];
  if (middleLow <= middleHigh) {
    alternatives.push(sequence(group(integerAlternatives(middleLow, middleHigh)), fractionSuffix(NO_FRACTION, ANY_FRACTION)));
  }
  if (!highIsWhole) alternatives.push(sequence(literal(String(highWhole)), fractionSuffix(NO_FRACTION, highFraction)));
  return alternatives;
}

/** A count of 10^-15ths as its integer part and its 15 fraction digits. */
function splitCount(count: bigint): [bigint, string] {
  const one = 10n ** BigInt(FRACTION_DIGITS);
  return [count / one, String(count % one).padStart(FRACTION_DIGITS, "0")];
}

/** What follows an integer part for a fraction within 0.`low`..0.`high`: none at all only where 0 is within. */
function fractionSuffix(low: string, high: string): string {
  const fraction = sequence('"."', fractionDigits(low, high, 1));
  return low === NO_FRACTION ? `(${fraction})?` : fraction;
}

// Fraction digits compare as decimals, not as integers: "5" is 0.5, above "49". Each function
// takes the bound digits of its position and below (padded with zeros to the width left), and
// writes strings of `fewest` up to that many digits.

/** Fraction digits whose value is within 0.`low`..0.`high`. */
function fractionDigits(low: string, high: string, fewest: number): string {
  if (/^0*$/.test(low)) return fractionAtMost(high, fewest);
  if (/^9*$/.test(high)) return fractionAtLeast(low, fewest);
  // From here on the empty string (value 0) is below `low`, so at least one digit follows.
  const [first, last] = [Number(low[0]), Number(high[0])];
  const [lowRest, highRest] = [low.slice(1), high.slice(1)];
  if (first === last) return sequence(literal(String(first)), fractionDigits(lowRest, highRest, 0));
  const alternatives: string[] = [];
  const lowWhole = /^0*$/.test(lowRest);
  const highWhole = /^9*$/.test(highRest);
  if (!lowWhole) alternatives.push(sequence(literal(String(first)), fractionAtLeast(lowRest, 0)));
  const [middleLow, middleHigh] = [lowWhole ? first : first + 1, highWhole ? last : last - 1];
  if (middleLow <= middleHigh) alternatives.push(sequence(digitClass(middleLow, middleHigh), digits(0, lowRest.length)));
  if (!highWhole) alternatives.push(sequence(literal(String(last)), fractionAtMost(highRest, 0)));
  return group(alternatives);
}

/** Fraction digits whose value is at least 0.`low`. */
function fractionAtLeast(low: string, fewest: number): string {
  if (/^0*$/.test(low)) return digits(fewest, low.length);
  const first = Number(low[0]);
  const alternatives: string[] = [];
  if (first < 9) alternatives.push(sequence(digitClass(first + 1, 9), digits(0, low.length - 1)));
  alternatives.push(sequence(literal(String(first)), fractionAtLeast(low.slice(1), 0)));
  return group(alternatives);
}

/** Fraction digits whose value is at most 0.`high`. */
function fractionAtMost(high: string, fewest: number): string {
  if (/^9*$/.test(high)) return digits(fewest, high.length);
  if (/^0*$/.test(high)) return repeat('"0"', fewest, high.length);
  const first = Number(high[0]);
  const alternatives: string[] = [];
  if (first > 0) alternatives.push(sequence(digitClass(0, first - 1), digits(0, high.length - 1)));
  alternatives.push(sequence(literal(String(first)), fractionAtMost(high.slice(1), 0)));
  // No digits at all is the value 0, at most anything.
  return fewest === 0 ? `${group(alternatives, true)}?` : group(alternatives);
}

// ---- GBNF spelling ------------------------------------------------------------------------------

function literal(text: string): string {
  return `"${text}"`;
}

function digitClass(low: number, high: number): string {
  return low === high ? literal(String(low)) : `[${low}-${high}]`;
}

/** `fewest` to `most` digits of any value. */
function digits(fewest: number, most: number): string {
  return repeat("[0-9]", fewest, most);
}

function repeat(item: string, fewest: number, most: number): string {
  if (most === 0) return "";
  if (fewest === most) return most === 1 ? item : `${item}{${most}}`;
  return fewest === 0 && most === 1 ? `${item}?` : `${item}{${fewest},${most}}`;
}

function sequence(...items: string[]): string {
  return items.filter((item) => item !== "").join(" ");
}

/** Alternatives as one self-contained item (grouped unless it is a single item already). */
function group(alternatives: string[], always = false): string {
  const [only] = alternatives;
  if (alternatives.length === 1 && only !== undefined && !always && !only.includes(" ")) return only;
  return `(${alternatives.join(" | ")})`;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
