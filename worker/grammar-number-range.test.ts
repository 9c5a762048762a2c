// Number range grammars take every value within the bounds, spelled as JSON spells it, and
// nothing else: checked twice, by what llama.cpp really generates under them (the tiny model's
// random weights wander the whole grammar) and exhaustively, over small ranges, by reading the
// expression as a regular expression (these grammars have no rule references, so they are one).
import { afterAll, describe, expect, it } from "vitest";
import { asRegExp } from "../test/support/gbnf-regexp.js";
import { disposeGrammarSamples, sampleGrammar } from "../test/support/grammar-samples.js";
import { MAX_GRAMMAR_INTEGER } from "./grammar-numbers.js";
import { integerRangeGrammar, type NumberBounds, numberRangeGrammar } from "./grammar-number-range.js";
import type { GrammarResult } from "./scalar-grammar.js";

afterAll(disposeGrammarSamples);

const SAMPLES = 20;
/** The longest number a grammar writes is 32 characters ("-", 15 digits, ".", 15 digits); one token each. */
const MAX_TOKENS = 40;
const JSON_INTEGER = /^-?(0|[1-9][0-9]{0,14})$/;
const JSON_NUMBER = /^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?$/;

function grammarOf(result: GrammarResult): string {
  if ("problem" in result) throw new Error(`expected a grammar, got the problem: ${result.problem}`);
  return result.grammar;
}

function within(value: number, bounds: NumberBounds): boolean {
  return (
    (bounds.minimum === undefined || value >= bounds.minimum) &&
    (bounds.maximum === undefined || value <= bounds.maximum) &&
    (bounds.exclusiveMinimum === undefined || value > bounds.exclusiveMinimum) &&
    (bounds.exclusiveMaximum === undefined || value < bounds.exclusiveMaximum) &&
    Math.abs(value) <= 10 ** 15
  );
}

/** Bounds drawn from a fixed seed (every run checks the same ones): each side absent, inclusive or exclusive, of `decimals` fraction digits within ±`reach`. */
function randomBounds(count: number, reach: number, decimals: number): NumberBounds[] {
  let state = 20_240_601;
  // mulberry32: a tiny PRNG of uniform numbers in [0, 1).
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const value = (): number => Math.round((next() * 2 - 1) * reach * 10 ** decimals) / 10 ** decimals;
  return Array.from({ length: count }, () => {
    const [a, b] = [value(), value()].sort((x, y) => x - y);
    const bounds: NumberBounds = {};
    const [lowKind, highKind] = [Math.floor(next() * 3), Math.floor(next() * 3)];
    if (lowKind === 1) bounds.minimum = a;
    if (lowKind === 2) bounds.exclusiveMinimum = a;
    if (highKind === 1) bounds.maximum = b;
    if (highKind === 2) bounds.exclusiveMaximum = b;
    return bounds;
  });
}

/**
 * Whether `text` is the shortest spelling of the double it parses to, trailing fraction zeros
 * aside. A grammar takes every such spelling within the bounds; a longer one (-10.000000000000001,
 * which parses to the double below -10) it may leave out, as its value has a spelling taken.
 */
function isShortestSpelling(text: string): boolean {
  const value = Number(text);
  const trimmed = text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  const fractionLength = trimmed.split(".")[1]?.length ?? 0;
  // Below 1e-6 String() writes an exponent; toFixed writes the same digits plainly.
  return trimmed === (String(value).includes("e") ? value.toFixed(fractionLength) : String(value));
}

describe("integer ranges", () => {
  const ranges: [string, NumberBounds][] = [
    ["no bounds", {}],
    ["0 and up", { minimum: 0 }],
    ["above 0", { exclusiveMinimum: 0 }],
    ["-5 to 5", { minimum: -5, maximum: 5 }],
    ["-100 to -7", { minimum: -100, maximum: -7 }],
    ["1 to 1000000", { minimum: 1, maximum: 1_000_000 }],
    ["10^14 up to the largest", { minimum: 10 ** 14 }],
    ["above -3.5 and below 12", { exclusiveMinimum: -3.5, exclusiveMaximum: 12 }],
    ["at most 0", { maximum: 0 }],
    ["2.5 to 7.5, rounded inwards", { minimum: 2.5, maximum: 7.5 }],
    ["17 alone", { minimum: 17, maximum: 17 }],
  ];

  it.each(ranges)("generates only integers within %s, as JSON writes them", async (_, bounds) => {
    const texts = await sampleGrammar(grammarOf(integerRangeGrammar(bounds)), SAMPLES, MAX_TOKENS);
    for (const text of texts) {
      expect(text).toMatch(JSON_INTEGER);
      const value = JSON.parse(text) as number;
      expect(Number.isInteger(value) && within(value, bounds), `${text} within ${JSON.stringify(bounds)}`).toBe(true);
    }
    const distinct = new Set(texts).size;
    expect(distinct).toBeGreaterThanOrEqual(bounds.minimum === 17 ? 1 : 3);
  });

  it.each([
    { minimum: -150, maximum: 150 },
    { minimum: 7, maximum: 1234 },
    { minimum: -1001, maximum: -99 },
    { exclusiveMinimum: 9, exclusiveMaximum: 100 },
    { minimum: 0.5, maximum: 10.5 },
    { minimum: 199, maximum: 1200 },
    { minimum: 0, maximum: 0 },
    { minimum: 3, exclusiveMinimum: 5, maximum: 20, exclusiveMaximum: 18 },
    ...randomBounds(40, 1400, 0),
  ])("takes every integer within %j and nothing else", (bounds) => {
    // Random bounds may leave no integer between them: then there is a problem and no grammar.
    const result = integerRangeGrammar(bounds);
    const grammar = "grammar" in result ? asRegExp(result.grammar) : /^$/;
    for (let value = -1500; value <= 1500; value++) {
      expect(grammar.test(String(value)), String(value)).toBe(within(value, bounds));
    }
    for (const odd of ["-0", "007", "01", "-01", "1.0", "+1", "", "1e2", " 1"]) expect(grammar.test(odd), odd).toBe(odd === "" && "problem" in result);
  });

  it("writes the whole range and wide ranges as a handful of alternatives", () => {
    expect(integerRangeGrammar({})).toEqual({ grammar: '("-" ([1-9] [0-9]{0,14}) | "0" | [1-9] [0-9]{0,14})' });
    expect(integerRangeGrammar({ minimum: 1, maximum: 1_000_000 })).toEqual({ grammar: '([1-9] [0-9]{0,5} | "1000000")' });
    expect(grammarOf(integerRangeGrammar({ minimum: 123_456_789, maximum: 987_654_321_012 })).length).toBeLessThan(600);
  });

  it("reads only the four bound keywords of a schema handed over whole", () => {
    const schema = { type: "integer", description: "a count", minimum: 0, maximum: 9 };
    expect(integerRangeGrammar(schema)).toEqual({ grammar: '("0" | [1-9])' });
  });

  it("clamps bounds beyond the largest integer a grammar writes", () => {
    const grammar = asRegExp(grammarOf(integerRangeGrammar({ minimum: -1e300, maximum: 1e300 })));
    expect(grammar.test(String(MAX_GRAMMAR_INTEGER))).toBe(true);
    expect(grammar.test(String(-MAX_GRAMMAR_INTEGER))).toBe(true);
    expect(grammar.test(String(MAX_GRAMMAR_INTEGER + 1))).toBe(false);
  });
});

describe("number ranges", () => {
  const ranges: [string, NumberBounds][] = [
    ["no bounds", {}],
    ["0 and up", { minimum: 0 }],
    ["above 0", { exclusiveMinimum: 0 }],
    ["at most 10", { maximum: 10 }],
    ["-1.5 to 2.5", { minimum: -1.5, maximum: 2.5 }],
    ["above -0.5 and below 0.25", { exclusiveMinimum: -0.5, exclusiveMaximum: 0.25 }],
    ["0.1 to 0.2", { minimum: 0.1, maximum: 0.2 }],
    ["-100 to -7", { minimum: -100, maximum: -7 }],
    ["99 up to below 100", { minimum: 99, exclusiveMaximum: 100 }],
  ];

  it.each(ranges)("generates only numbers within %s, as JSON writes them", async (_, bounds) => {
    const texts = await sampleGrammar(grammarOf(numberRangeGrammar(bounds)), SAMPLES, MAX_TOKENS);
    for (const text of texts) {
      expect(text).toMatch(JSON_NUMBER);
      expect(within(JSON.parse(text) as number, bounds), `${text} within ${JSON.stringify(bounds)}`).toBe(true);
    }
    expect(new Set(texts).size).toBeGreaterThanOrEqual(5);
  });

  const integerParts = Array.from({ length: 25 }, (_, i) => String(i - 12));
  const fractions = ["", ".0", ".00", ".000000000000000", ".5", ".50", ".05", ".1", ".09", ".2", ".2000000000001", ".25", ".2500", ".249999999999999", ".250000000000001", ".4999", ".75", ".999999999999999", ".999999999999998", ".000000000000001", ".000000000000002", ".0000000000000001", ".1234567890123456"];
  const shortFractions = Array.from({ length: 1110 }, (_, i) => (i < 10 ? `.${i}` : i < 110 ? `.${String(i - 10).padStart(2, "0")}` : `.${String(i - 110).padStart(3, "0")}`));
  const texts = [
    ...integerParts.flatMap((whole) => fractions.map((fraction) => whole + fraction)),
    ...fractions.map((fraction) => `-0${fraction}`),
    // Every fraction of up to three digits, around zero: each digit class of the grammar is met.
    ...["-3", "-2", "-1", "-0", "0", "1", "2", "3"].flatMap((whole) => shortFractions.map((fraction) => whole + fraction)),
  ];

  it.each([
    { minimum: -1.5, maximum: 2.5 },
    { exclusiveMinimum: -0.5, exclusiveMaximum: 0.25 },
    { minimum: 0.1, maximum: 0.2 },
    { minimum: -2.375, maximum: 1.875 },
    { exclusiveMinimum: 0.09, exclusiveMaximum: 0.91 },
    { minimum: -0.805, exclusiveMaximum: -0.2 },
    { exclusiveMinimum: 0 },
    { maximum: 10 },
    { exclusiveMaximum: -10 },
    { minimum: -12, exclusiveMaximum: 0 },
    { minimum: 0, maximum: 0 },
    { minimum: 3.25, maximum: 3.25 },
    { minimum: -1, exclusiveMinimum: -1, maximum: 2, exclusiveMaximum: 2.5 },
    {},
    ...randomBounds(40, 3.5, 3),
  ])("takes every number within %j and nothing else", (bounds) => {
    const grammar = asRegExp(grammarOf(numberRangeGrammar(bounds)));
    for (const text of texts) {
      const fits = JSON_NUMBER.test(text) && !/^-0(\.0*)?$/.test(text) && within(Number(text), bounds);
      if (grammar.test(text)) expect(fits, text).toBe(true);
      else if (isShortestSpelling(text)) expect(fits, text).toBe(false);
    }
  });

  it("keeps out of an exclusive bound the decimals that parse to the bound itself", () => {
    // As a decimal 99.999999999999999 is below 100, but it parses to the double 100 itself.
    expect(Number("99.999999999999999")).toBe(100);
    const grammar = asRegExp(grammarOf(numberRangeGrammar({ exclusiveMaximum: 100 })));
    expect(grammar.test("99.999999999999999")).toBe(false);
    expect(grammar.test("99.99999999999999")).toBe(true);
    expect(grammar.test("100")).toBe(false);
  });

  it("takes the largest and smallest numbers a grammar writes when unbounded", () => {
    const grammar = asRegExp(grammarOf(numberRangeGrammar({})));
    for (const text of ["999999999999999.999999999999999", "-999999999999999.999999999999999", "-0.000000000000001"]) expect(grammar.test(text), text).toBe(true);
    for (const text of ["1000000000000000", "0.0000000000000001", "1e5"]) expect(grammar.test(text), text).toBe(false);
  });
});

describe("bounds no grammar can keep", () => {
  it.each([
    [{ minimum: 5, maximum: 3 }, "minimum 5 above maximum 3: no value fits"],
    [{ minimum: 3, exclusiveMaximum: 3 }, "minimum 3 and exclusiveMaximum 3: no integer fits"],
    [{ minimum: 2.5, maximum: 2.7 }, "minimum 2.5 and maximum 2.7: no integer fits"],
    [{ exclusiveMinimum: 4, exclusiveMaximum: 5 }, "exclusiveMinimum 4 and exclusiveMaximum 5: no integer fits"],
    [{ minimum: 1e20 }, "minimum 100000000000000000000: above 999999999999999, the largest integer a grammar writes"],
    [{ exclusiveMaximum: -1e15 }, "exclusiveMaximum -1000000000000000: below -999999999999999, the smallest integer a grammar writes"],
    [{ maximum: Number.NaN }, "maximum NaN: expected a finite number"],
    [{ minimum: Number.POSITIVE_INFINITY }, "minimum Infinity: expected a finite number"],
    [{ exclusiveMinimum: true as unknown as number }, "exclusiveMinimum true: expected a finite number"],
  ] satisfies [NumberBounds, string][])("refuses integers with %j", (bounds, problem) => {
    expect(integerRangeGrammar(bounds)).toEqual({ problem });
  });

  it.each([
    [{ minimum: 5, maximum: 3 }, "minimum 5 above maximum 3: no value fits"],
    [{ exclusiveMinimum: 0.5, maximum: 0.5 }, "exclusiveMinimum 0.5 and maximum 0.5: no number of at most 15 decimals fits"],
    [{ minimum: 1e-20, maximum: 1e-18 }, "minimum 1e-20 and maximum 1e-18: no number of at most 15 decimals fits"],
    [{ minimum: 1e15 }, "minimum 1000000000000000: above 999999999999999.999999999999999, the largest number a grammar writes"],
    [{ maximum: "3" as unknown as number }, 'maximum "3": expected a finite number'],
  ] satisfies [NumberBounds, string][])("refuses numbers with %j", (bounds, problem) => {
    expect(numberRangeGrammar(bounds)).toEqual({ problem });
  });
});
