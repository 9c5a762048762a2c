// The grammars the worker writes itself for string, number and integer schemas whose constraints
// node-llama-cpp's generator has no rules for: numeric bounds (pydantic's `Field(ge=0)`, zod's
// `.positive()`), `pattern`, and string formats beyond its date-time, time and date. OpenAI's
// strict mode enforces all of these, and AI SDK's `generateObject` and OpenAI's `parse` helpers
// send strict schemas by default, so refusing them refused everyday schemas.
//
// The checker (json-schema-support.ts) asks here whether a schema's constraints can be written,
// and asGeneratorSchema (schema-normalizer.ts) hands the expression to the generator as the
// schema's GENERATED_GRAMMAR_KEY, which patches/node-llama-cpp+3.21.1.patch has it write as that
// value's rule. A pattern beside a format is enforced as the pattern: frameworks write the
// format's own check as its pattern (zod 4 does for email, uuid, ipv4, ipv6, date and date-time),
// but for the few such checks with lookaheads, whose format's grammar keeps them (FORMAT_CHECK_PATTERNS).
import { FORMAT_CHECK_PATTERNS, formatGrammar, formatKeepsLengths } from "./grammar-formats.js";
import { BOUND_KEYWORDS, integerRangeGrammar, type NumberBounds, numberRangeGrammar } from "./grammar-number-range.js";
import { patternGrammar } from "./grammar-pattern.js";

/** Where asGeneratorSchema puts a value's own grammar for node-llama-cpp's (patched) generator; no client's schema may hold it. */
export const GENERATED_GRAMMAR_KEY = "x-rbee-gbnf";

/** A GBNF expression (the body of one rule, with no rule names), or why none can be written. */
export type GrammarResult = { grammar: string } | { problem: string };

/** A value's grammar, or which keyword cannot be enforced and why. */
export type ScalarGrammar = { grammar: string } | { keyword: string; problem: string };

/**
 * The grammar of a string, number or integer schema's constraints, or undefined when the
 * generator's own rules enforce all of them (none, lengths, its own formats).
 */
export function scalarGrammar(schema: Record<string, unknown>): ScalarGrammar | undefined {
  if (schema.type === "string") return stringGrammar(schema);
  if (schema.type === "integer" || schema.type === "number") return boundedNumberGrammar(schema, schema.type);
  return undefined;
}

function stringGrammar(schema: Record<string, unknown>): ScalarGrammar | undefined {
  const { pattern, format } = schema;
  const length = ["minLength", "maxLength"].find((keyword) => schema[keyword] !== undefined);
  // A framework's own check of the format, which the format's grammar keeps: the format is enforced.
  const formatsCheck = typeof format === "string" && FORMAT_CHECK_PATTERNS.get(format) === pattern;
  if (pattern !== undefined && !formatsCheck) {
    if (typeof pattern !== "string") return { keyword: "pattern", problem: "expected a regular expression as a string" };
    // A pattern's grammar writes its own lengths: a bound beside it would not be kept.
    if (length !== undefined) return { keyword: length, problem: "cannot be enforced beside a pattern" };
    const compiled = compiledPattern(pattern);
    return "problem" in compiled ? { keyword: "pattern", problem: compiled.problem } : compiled;
  }
  if (typeof format !== "string") return undefined;
  // So does a format's, the generator's own included: a bound beside it holds only if every value it writes keeps it.
  if (length !== undefined && !formatKeepsLengths(format, schema.minLength, schema.maxLength)) return { keyword: length, problem: "cannot be enforced beside a format" };
  const grammar = formatGrammar(format);
  return grammar === undefined ? undefined : { grammar };
}

/**
 * Patterns compiled lately: the checker and asGeneratorSchema each ask for a schema's patterns, and
 * agents send the same tools with every request.
 */
const recentPatterns = new Map<string, GrammarResult>();
const RECENT_PATTERNS = 512;
/** Longer patterns are compiled each time: the memory kept stays a few MB whatever clients send. */
const REMEMBERED_PATTERN_CHARACTERS = 2000;

function compiledPattern(pattern: string): GrammarResult {
  const known = recentPatterns.get(pattern);
  if (known !== undefined) return known;
  const compiled = patternGrammar(pattern);
  if (pattern.length > REMEMBERED_PATTERN_CHARACTERS) return compiled;
  if (recentPatterns.size >= RECENT_PATTERNS) recentPatterns.delete(recentPatterns.keys().next().value as string);
  recentPatterns.set(pattern, compiled);
  return compiled;
}

function boundedNumberGrammar(schema: Record<string, unknown>, type: "integer" | "number"): ScalarGrammar | undefined {
  const bounds: { -readonly [K in keyof NumberBounds]: number } = {};
  for (const keyword of BOUND_KEYWORDS) {
    const value = schema[keyword];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value)) return { keyword, problem: "expected a finite number" };
    bounds[keyword] = value;
  }
  const first = BOUND_KEYWORDS.find((keyword) => keyword in bounds);
  if (first === undefined) return undefined;
  const compiled = type === "integer" ? integerRangeGrammar(bounds) : numberRangeGrammar(bounds);
  return "problem" in compiled ? { keyword: first, problem: compiled.problem } : compiled;
}
