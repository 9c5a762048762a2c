// The grammar as a tree: kept apart from its text so literals merge and llama.cpp's limits can be
// counted, then rendered as the GBNF text llama.cpp's parser reads. grammar-pattern.ts builds it.
import { type CharSet, complement } from "./pattern-char-sets.js";
import { PatternProblem, type QuantifierSource, where } from "./pattern-parser.js";

export type Gbnf =
  | { kind: "literal"; codePoints: number[] }
  /** Rendered as `[…]` or `[^…]`, whichever is shorter. */
  | { kind: "class"; set: CharSet }
  /** Never holds a sequence or an alternation (builders group them); no items is the empty text. */
  | { kind: "sequence"; items: Gbnf[] }
  | { kind: "alternation"; options: Gbnf[] }
  | { kind: "group"; inner: Gbnf }
  /** `item` is a literal, a class or a group, so the repetition applies to all of it. */
  | { kind: "repeat"; item: Gbnf; min: number; max: number };

export const EMPTY: Gbnf = { kind: "sequence", items: [] };

export function isEmpty(g: Gbnf): boolean {
  return g.kind === "sequence" && g.items.length === 0;
}

export function sequenceOf(parts: readonly Gbnf[]): Gbnf {
  const items: Gbnf[] = [];
  // A run of literals becomes one, its code points gathered in one array: copying the run so far
  // at each literal was quadratic, and a 20,000-character pattern held the worker for 17 s.
  let run: number[] | undefined;
  for (const part of parts.flatMap((p) => (p.kind === "sequence" ? p.items : [p]))) {
    if (part.kind === "literal") {
      if (run === undefined) items.push({ kind: "literal", codePoints: (run = [...part.codePoints]) });
      else for (const codePoint of part.codePoints) run.push(codePoint);
      continue;
    }
    run = undefined;
    items.push(part.kind === "alternation" ? { kind: "group", inner: part } : part);
  }
  return items.length === 1 && items[0] !== undefined ? items[0] : { kind: "sequence", items };
}

export function alternationOf(parts: readonly Gbnf[]): Gbnf {
  const options = parts.flatMap((p) => (p.kind === "alternation" ? p.options : [p]));
  return options.length === 1 && options[0] !== undefined ? options[0] : { kind: "alternation", options };
}

/**
 * llama.cpp's parser refuses a repetition when the rules inside the repeated group, times the
 * copies, reach MAX_REPETITION_THRESHOLD (2,000): `(\w{1,100}\.){1,20}` would fail there.
 */
const MAX_REPEATED_RULES = 2000;

export function repeatOf(part: Gbnf, min: number, max: number, source: QuantifierSource): Gbnf {
  const item: Gbnf = part.kind === "literal" || part.kind === "class" || part.kind === "group" ? part : { kind: "group", inner: part };
  const rules = item.kind === "group" ? rulesCreated(item) : 1;
  const copies = Number.isFinite(max) && max > 0 ? max : Math.max(min, 1);
  if (rules * copies >= MAX_REPEATED_RULES) {
    throw new PatternProblem(`repetition "${source.text}" ${where(source.index)} repeats too much for a grammar: ${copies} copies of a part of ${rules} grammar rules, where llama.cpp takes fewer than ${MAX_REPEATED_RULES.toLocaleString("en-US")} in all`);
  }
  return { kind: "repeat", item, min, max };
}

/** The rules llama.cpp's parser creates for `g`: one per group, and per optional copy of a repetition. */
function rulesCreated(g: Gbnf): number {
  switch (g.kind) {
    case "literal":
    case "class":
      return 0;
    case "sequence":
      return g.items.reduce((sum, item) => sum + rulesCreated(item), 0);
    case "alternation":
      return g.options.reduce((sum, option) => sum + rulesCreated(option), 0);
    case "group":
      return 1 + rulesCreated(g.inner);
    case "repeat":
      return rulesCreated(g.item) + (Number.isFinite(g.max) ? g.max - g.min : 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Text

export function render(g: Gbnf): string {
  switch (g.kind) {
    case "literal":
      return `"${g.codePoints.map(gbnfChar).join("")}"`;
    case "class":
      return renderClass(g.set);
    case "sequence":
      return g.items.length === 0 ? '""' : g.items.map(render).join(" ");
    case "alternation":
      return g.options.map(render).join(" | ");
    case "group":
      return `(${render(g.inner)})`;
    case "repeat":
      return render(g.item) + repetitionSuffix(g.min, g.max);
  }
}

function repetitionSuffix(min: number, max: number): string {
  if (max === Infinity) return min === 0 ? "*" : min === 1 ? "+" : `{${min},}`;
  if (min === 0 && max === 1) return "?";
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

/** `[…]` or `[^…]`, whichever is shorter; an empty `[^]` would match the empty text in llama.cpp. */
function renderClass(set: CharSet): string {
  const positive = `[${set.map(renderRange).join("")}]`;
  const excluded = complement(set);
  if (excluded.length === 0) return positive;
  const negative = `[^${excluded.map(renderRange).join("")}]`;
  return negative.length < positive.length ? negative : positive;
}

function renderRange([lo, hi]: readonly [number, number]): string {
  return lo === hi ? gbnfChar(lo) : `${gbnfChar(lo)}-${gbnfChar(hi)}`;
}

/**
 * A code point as llama.cpp's grammar parser reads it: ASCII letters and digits as they are,
 * every other character as a hex escape, which its parser takes in literals and classes alike
 * (a bare `\`, `"`, `]` or `-` would end or split them; other backslash escapes are errors).
 */
function gbnfChar(codePoint: number): string {
  if (/^[0-9A-Za-z]$/u.test(String.fromCodePoint(codePoint))) return String.fromCodePoint(codePoint);
  const hex = codePoint.toString(16).toUpperCase();
  if (codePoint <= 0xff) return `\\x${hex.padStart(2, "0")}`;
  if (codePoint <= 0xffff) return `\\u${hex.padStart(4, "0")}`;
  return `\\U${hex.padStart(8, "0")}`;
}
