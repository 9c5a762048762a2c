// Compiles a JSON Schema `pattern` (an ECMA-262 regular expression) into a GBNF expression, so the
// worker can hold a string to its pattern while the model writes it: node-llama-cpp's schema
// grammar ignores `pattern`. The pattern is read by code points, as the `u` flag reads it, into a
// small tree; the tree is then written as grammar over the ENCODED text a JSON encoder writes (a
// `"` the pattern takes becomes `\"`, a tab `\t`), quotes included. What a grammar cannot follow
// (lookarounds, backreferences, word boundaries, anchors inside the pattern) is refused with a
// problem that names it and where, for the API's 400. The reading is pattern-parser.ts and the
// grammar tree gbnf-tree.ts; this file writes the one as the other, over the JSON encoding.
import { alternationOf, EMPTY, type Gbnf, isEmpty, render, repeatOf, sequenceOf } from "./gbnf-tree.js";
import { type CharSet, charSet, complement, contains, EVERYTHING, intersect } from "./pattern-char-sets.js";
import { type Branch, codePointOf, type Pattern, PatternParser, PatternProblem, type Repeat } from "./pattern-parser.js";
import type { GrammarResult } from "./scalar-grammar.js";

/**
 * A GBNF expression (no rule names, no `::=`: it will be the body of one rule) that matches exactly
 * the JSON string literals — with their surrounding double quotes, and with the JSON escapes a JSON
 * encoder writes — whose decoded value matches `pattern`.
 */
export function patternGrammar(pattern: string): GrammarResult {
  try {
    return { grammar: render(jsonString(new PatternParser(pattern).parse())) };
  } catch (error) {
    if (error instanceof PatternProblem) return { problem: error.message };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Empty matches: `S*` where S can match the empty text is written `S' ::= S S' |` by llama.cpp's
// parser, a left-recursive rule. Its left-recursion check refuses that when S has an empty
// alternative of its own (`(a|)*`), and where it does not, each text still parses in endless ways;
// so an unbounded repetition of such a part repeats a part that cannot be empty instead.

function matchesEmpty(pattern: Pattern): boolean {
  switch (pattern.kind) {
    case "chars":
      return false;
    case "sequence":
      return pattern.items.every(matchesEmpty);
    case "alternation":
      return pattern.options.some(matchesEmpty);
    case "repeat":
      return pattern.min === 0 || matchesEmpty(pattern.item);
  }
}

const NOTHING: Pattern = { kind: "chars", set: [] };

/**
 * A part that cannot match the empty text and whose `*` matches what `pattern*` does. For a
 * sequence of parts that can each be empty, `(x y)*` is `(x | y)*`: an alternation keeps the
 * result as small as the pattern, where spelling out "x not empty, or x empty and y not" would
 * grow with the square of its length.
 */
function repeatablePart(pattern: Pattern): Pattern {
  if (!matchesEmpty(pattern)) return pattern;
  switch (pattern.kind) {
    case "chars":
      return pattern;
    case "sequence":
      return pattern.items.length === 0 ? NOTHING : { kind: "alternation", options: pattern.items.map(repeatablePart) };
    case "alternation":
      return { kind: "alternation", options: pattern.options.map(repeatablePart) };
    case "repeat":
      // (x{0,3})* and (x?)+ take what x* takes.
      return pattern.max === 0 ? NOTHING : repeatablePart(pattern.item);
  }
}

// ---------------------------------------------------------------------------------------------
// From pattern to grammar, over the encoded text

/** What JSON encoders write with a backslash, and the letter after it. */
const JSON_ESCAPES: readonly (readonly [number, string])[] = [
  [0x22, '"'],
  [0x5c, "\\"],
  [0x08, "b"],
  [0x0c, "f"],
  [0x0a, "n"],
  [0x0d, "r"],
  [0x09, "t"],
];
const BACKSLASH = 0x5c;
const QUOTE: Gbnf = { kind: "literal", codePoints: [0x22] };

/**
 * The code points a JSON string holds as they are. Control characters are not among them, and
 * those without a short escape (U+0000–U+001F but \b \t \n \f \r) are written by no rule here:
 * an encoder writes them `\u00XX`, and the grammar takes fewer values than the pattern in that
 * corner rather than let the model spell escapes. Lone surrogates are left out too: UTF-8 cannot
 * hold them, so the model could only write invalid bytes.
 */
const RAW_IN_JSON = complement(charSet([[0x00, 0x1f], [0x22, 0x22], [0x5c, 0x5c], [0xd800, 0xdfff]]));

/** Any one character of a JSON string, encoded: what an unanchored side of the pattern repeats. */
const ANY_ENCODED_CHAR = encodedChars(EVERYTHING);

function jsonString(branches: readonly Branch[]): Gbnf {
  const options = branches.map(encodedBranch).filter((g): g is Gbnf => g !== undefined);
  if (options.length === 0) {
    throw new PatternProblem("pattern matches no string the grammar can write: it matches nothing, or only strings with control characters other than tab, newline, carriage return, backspace and form feed");
  }
  return sequenceOf([QUOTE, alternationOf(options), QUOTE]);
}

function encodedBranch(branch: Branch): Gbnf | undefined {
  const body = encoded(branch.body);
  if (body === undefined || ANY_ENCODED_CHAR === undefined) return undefined;
  const anyText: Gbnf = { kind: "repeat", item: { kind: "group", inner: ANY_ENCODED_CHAR }, min: 0, max: Infinity };
  // `.*.*` would take each text in many ways, and llama.cpp would track each of them.
  if (isEmpty(body) && !(branch.anchoredStart && branch.anchoredEnd)) return anyText;
  return sequenceOf([branch.anchoredStart ? EMPTY : anyText, body, branch.anchoredEnd ? EMPTY : anyText]);
}

/** The grammar of the encoded texts of what `pattern` matches; undefined when it can write none. */
function encoded(pattern: Pattern): Gbnf | undefined {
  switch (pattern.kind) {
    case "chars":
      return encodedChars(pattern.set);
    case "sequence": {
      const items = pattern.items.map(encoded);
      return items.every((item) => item !== undefined) ? sequenceOf(items) : undefined;
    }
    case "alternation": {
      const options = pattern.options.map(encoded).filter((g): g is Gbnf => g !== undefined);
      return options.length === 0 ? undefined : alternationOf(options);
    }
    case "repeat":
      return encodedRepeat(pattern);
  }
}

function encodedRepeat(pattern: Repeat): Gbnf | undefined {
  if (pattern.max === 0) return EMPTY;
  const canBeEmpty = matchesEmpty(pattern.item);
  // Unbounded and able to be empty: x{2,} takes what x* takes, and x is replaced (see repeatablePart).
  const loops = canBeEmpty && pattern.max === Infinity;
  const item = encoded(loops ? repeatablePart(pattern.item) : pattern.item);
  // The item takes only the empty text, or no text at all.
  if (item === undefined || isEmpty(item)) return canBeEmpty || pattern.min === 0 ? EMPTY : undefined;
  return repeatOf(item, loops ? 0 : pattern.min, pattern.max, pattern.source);
}

/** One character of `set`, as written in JSON: as itself, or as its backslash escape. */
function encodedChars(set: CharSet): Gbnf | undefined {
  const raw = intersect(set, RAW_IN_JSON);
  const escapeLetters = JSON_ESCAPES.filter(([codePoint]) => contains(set, codePoint)).map(([, letter]) => codePointOf(letter));
  const options: Gbnf[] = [];
  if (raw.length > 0) options.push(oneOf(raw));
  if (escapeLetters.length > 0) options.push(sequenceOf([{ kind: "literal", codePoints: [BACKSLASH] }, oneOf(charSet(escapeLetters.map((c) => [c, c])))]));
  return options.length === 0 ? undefined : alternationOf(options);
}

function oneOf(set: CharSet): Gbnf {
  const [first] = set;
  return set.length === 1 && first !== undefined && first[0] === first[1] ? { kind: "literal", codePoints: [first[0]] } : { kind: "class", set };
}
