// The pattern as a tree: a JSON Schema `pattern` (an ECMA-262 regular expression) read by code
// points, as the `u` flag reads it. What a grammar cannot follow (lookarounds, backreferences, word
// boundaries, anchors inside the pattern) is refused with a PatternProblem that names it and where,
// for the API's 400. grammar-pattern.ts writes the tree as grammar.
import { type CharSet, complement, DIGIT, LINE_TERMINATORS, MAX_CODE_POINT, single, SPACE, union, WORD } from "./pattern-char-sets.js";

/** Why a pattern cannot be enforced; caught in patternGrammar and returned as its `problem`. */
export class PatternProblem extends Error {
  override name = "PatternProblem";
}

/** `at character N` for a 0-based code point index: people count from 1. */
export function where(index: number): string {
  return `at character ${index + 1}`;
}

/** Where a quantifier was written, for the problem a repetition too large for llama.cpp gets. */
export interface QuantifierSource {
  text: string;
  index: number;
}

export type Pattern =
  | { kind: "chars"; set: CharSet }
  | { kind: "sequence"; items: Pattern[] }
  | { kind: "alternation"; options: Pattern[] }
  /** `max` is Infinity when unbounded. */
  | { kind: "repeat"; item: Pattern; min: number; max: number; source: QuantifierSource };

export type Repeat = Extract<Pattern, { kind: "repeat" }>;

/** One top-level alternative: `^a|b$` anchors `a` at the start only and `b` at the end only. */
export interface Branch {
  body: Pattern;
  anchoredStart: boolean;
  anchoredEnd: boolean;
}

/** A count above this is refused; llama.cpp itself refuses above 2,000 and each copy costs grammar. */
const MAX_COUNT = 1000;
/** Deeper nesting is refused: the parser and emitter recurse once per group. */
const MAX_GROUP_DEPTH = 100;

/** A recursive-descent parser of the supported regex subset; throws PatternProblem. */
export class PatternParser {
  private readonly chars: string[];
  private pos = 0;

  constructor(pattern: string) {
    this.chars = Array.from(pattern);
  }

  parse(): Branch[] {
    const branches = [this.branch()];
    while (this.eat("|")) branches.push(this.branch());
    // A branch stops only at "|", the end, or a ")" that closes nothing.
    if (this.pos < this.chars.length) throw new PatternProblem(`unmatched ")" ${where(this.pos)}`);
    return branches;
  }

  /** A pasted `/^…$/i` fails on an anchor in its middle; the reason is worth saying. */
  private regexLiteralHint(): string {
    return this.chars[0] === "/" ? "; write the pattern without /slashes/ and flags" : "";
  }

  private branch(): Branch {
    const anchoredStart = this.eat("^");
    const body = this.sequence(0);
    const anchoredEnd = this.eat("$");
    return { body, anchoredStart, anchoredEnd };
  }

  private alternation(depth: number): Pattern {
    const options = [this.sequence(depth)];
    while (this.eat("|")) options.push(this.sequence(depth));
    return options.length === 1 && options[0] !== undefined ? options[0] : { kind: "alternation", options };
  }

  private sequence(depth: number): Pattern {
    const items: Pattern[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      if (c === "$" && depth === 0 && this.endsBranch(this.pos + 1)) break;
      items.push(this.term(depth));
    }
    return items.length === 1 && items[0] !== undefined ? items[0] : { kind: "sequence", items };
  }

  private endsBranch(index: number): boolean {
    const c = this.chars[index];
    return c === undefined || c === "|";
  }

  private term(depth: number): Pattern {
    const item = this.atom(depth);
    const quantifier = this.quantifier();
    if (quantifier === undefined) return item;
    // `a**` and `a{2}{3}` are syntax errors in ECMA-262 too.
    if (this.quantifierAhead()) throw this.nothingToRepeat();
    return { kind: "repeat", item, ...quantifier };
  }

  private atom(depth: number): Pattern {
    const c = this.peek();
    switch (c) {
      case "(":
        return this.group(depth);
      case "[":
        return { kind: "chars", set: this.charClass() };
      case ".":
        this.pos++;
        return { kind: "chars", set: complement(LINE_TERMINATORS) };
      case "\\": {
        const escaped = this.escape(false);
        return { kind: "chars", set: typeof escaped === "number" ? single(escaped) : escaped };
      }
      case "*":
      case "+":
      case "?":
        throw this.nothingToRepeat();
      case "{":
        if (this.countAt(this.pos) !== undefined) throw this.nothingToRepeat();
        throw new PatternProblem(`lone "{" ${where(this.pos)} is not a quantifier; write \\{ for a literal brace`);
      case "}":
      case "]":
        throw new PatternProblem(`lone "${c}" ${where(this.pos)}; write \\${c} for a literal one`);
      case "^":
        throw new PatternProblem(`start anchor "^" ${where(this.pos)} cannot be enforced: only at the start of the pattern or of one of its top-level alternatives${this.regexLiteralHint()}`);
      case "$":
        throw new PatternProblem(`end anchor "$" ${where(this.pos)} cannot be enforced: only at the end of the pattern or of one of its top-level alternatives${this.regexLiteralHint()}`);
      default:
        this.pos++;
        return { kind: "chars", set: single(codePointOf(c)) };
    }
  }

  private group(depth: number): Pattern {
    const open = this.pos;
    if (depth >= MAX_GROUP_DEPTH) throw new PatternProblem(`group ${where(open)} is nested deeper than ${MAX_GROUP_DEPTH} groups`);
    this.pos++;
    if (this.peek() === "?") this.groupPrefix(open);
    const body = this.alternation(depth + 1);
    if (!this.eat(")")) throw new PatternProblem(`group "(" ${where(open)} is never closed`);
    return body;
  }

  /** Consumes `?:`, `?<name>` or Python's `?P<name>` (pydantic passes its patterns on as written); refuses every other `(?`. */
  private groupPrefix(open: number): void {
    const ahead = this.chars.slice(this.pos, this.pos + 3).join("");
    const prefix = this.chars.slice(this.pos, this.pos + 2).join("");
    if (ahead.startsWith("?:")) {
      this.pos += 2;
      return;
    }
    if (ahead.startsWith("?=") || ahead.startsWith("?!")) throw new PatternProblem(`lookahead "(${prefix}" ${where(open)} cannot be enforced`);
    if (ahead === "?<=" || ahead === "?<!") throw new PatternProblem(`lookbehind "(${ahead}" ${where(open)} cannot be enforced`);
    if (ahead.startsWith("?<")) {
      this.groupName(open, 2);
      return;
    }
    if (ahead === "?P<") {
      this.groupName(open, 3);
      return;
    }
    if (/^\?[a-z-]/iu.test(ahead)) throw new PatternProblem(`inline flags "(${prefix}" ${where(open)} cannot be enforced: JSON Schema patterns take no flags`);
    throw new PatternProblem(`unknown group "(${prefix}" ${where(open)}`);
  }

  /** The name after the `prefix` characters of `?<` or `?P<`, up to its `>`. */
  private groupName(open: number, prefix: number): void {
    const close = this.chars.indexOf(">", this.pos);
    const name = close < 0 ? "" : this.chars.slice(this.pos + prefix, close).join("");
    if (!/^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u.test(name)) throw new PatternProblem(`named group "(?<" ${where(open)} needs a name and a closing ">"`);
    this.pos = close + 1;
  }

  /** A `[...]` class as the set of code points it takes. */
  private charClass(): CharSet {
    const open = this.pos;
    this.pos++;
    const negated = this.eat("^");
    const parts: CharSet[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new PatternProblem(`character class "[" ${where(open)} is never closed`);
      if (c === "]") break;
      parts.push(this.classItem());
    }
    this.pos++;
    const set = union(parts);
    return negated ? complement(set) : set;
  }

  /** One character, class escape or range of a class. */
  private classItem(): CharSet {
    const lo = this.classAtom();
    const next = this.chars[this.pos + 1];
    if (this.peek() !== "-" || next === undefined || next === "]") return typeof lo === "number" ? single(lo) : lo;
    const dash = this.pos;
    this.pos++;
    const hi = this.classAtom();
    if (typeof lo !== "number" || typeof hi !== "number") throw new PatternProblem(`range "-" ${where(dash)} has a class such as \\d at one end; write \\- for a literal dash`);
    if (lo > hi) throw new PatternProblem(`range "-" ${where(dash)} is out of order: ${String.fromCodePoint(lo)} comes after ${String.fromCodePoint(hi)}`);
    return [[lo, hi]];
  }

  private classAtom(): number | CharSet {
    const c = this.peek();
    if (c === "\\") return this.escape(true);
    this.pos++;
    return codePointOf(c);
  }

  /** The escape at `pos` (a backslash): one code point, or a set for `\d \w \s` and their negations. */
  private escape(inClass: boolean): number | CharSet {
    const start = this.pos;
    const c = this.chars[start + 1];
    if (c === undefined) throw new PatternProblem(`pattern ends with a lone "\\" ${where(start)}`);
    this.pos += 2;
    switch (c) {
      case "d":
        return DIGIT;
      case "D":
        return complement(DIGIT);
      case "w":
        return WORD;
      case "W":
        return complement(WORD);
      case "s":
        return SPACE;
      case "S":
        return complement(SPACE);
      case "t":
        return 0x09;
      case "n":
        return 0x0a;
      case "v":
        return 0x0b;
      case "f":
        return 0x0c;
      case "r":
        return 0x0d;
      case "b":
        if (inClass) return 0x08;
        throw new PatternProblem(`word boundary "\\b" ${where(start)} cannot be enforced`);
      case "B":
        throw new PatternProblem(`word boundary "\\B" ${where(start)} cannot be enforced`);
      case "0":
        if (isDigit(this.peek())) throw new PatternProblem(`octal escape or backreference "\\0${this.peek() ?? ""}" ${where(start)} cannot be enforced`);
        return 0;
      case "k":
        throw new PatternProblem(`named backreference "\\k" ${where(start)} cannot be enforced`);
      case "p":
      case "P":
        throw new PatternProblem(`Unicode property escape "\\${c}{…}" ${where(start)} cannot be enforced`);
      case "x":
        return this.hex(2, start, "\\x");
      case "u":
        return this.unicodeEscape(start);
      default:
        if (isDigit(c)) throw new PatternProblem(`backreference "\\${c}" ${where(start)} cannot be enforced`);
        // Escaped punctuation stands for itself (`\. \- \/`); an escaped letter means something this subset lacks.
        if (/^[!-/:-@[-`{-~]$/u.test(c)) return codePointOf(c);
        throw new PatternProblem(`unknown escape "\\${c}" ${where(start)}`);
    }
  }

  /** `\uHHHH` (joining a surrogate pair written as two escapes, as the `u` flag does) or `\u{H…}`. */
  private unicodeEscape(start: number): number {
    if (this.eat("{")) {
      const close = this.chars.indexOf("}", this.pos);
      const digits = close < 0 ? "" : this.chars.slice(this.pos, close).join("");
      const value = /^[0-9a-f]{1,6}$/iu.test(digits) ? parseInt(digits, 16) : Infinity;
      if (value > MAX_CODE_POINT) throw new PatternProblem(`escape "\\u{" ${where(start)} needs a code point in hex up to 10FFFF and a closing "}"`);
      this.pos = close + 1;
      return value;
    }
    const unit = this.hex(4, start, "\\u");
    const isHighSurrogate = unit >= 0xd800 && unit <= 0xdbff;
    const low = isHighSurrogate && this.chars[this.pos] === "\\" && this.chars[this.pos + 1] === "u" ? this.hexAt(this.pos + 2, 4) : undefined;
    if (low === undefined || low < 0xdc00 || low > 0xdfff) return unit;
    this.pos += 6;
    return 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
  }

  private hex(length: number, start: number, escape: string): number {
    const value = this.hexAt(this.pos, length);
    if (value === undefined) throw new PatternProblem(`escape "${escape}" ${where(start)} needs ${length} hex digits`);
    this.pos += length;
    return value;
  }

  private hexAt(index: number, length: number): number | undefined {
    const digits = this.chars.slice(index, index + length).join("");
    return digits.length === length && /^[0-9a-f]+$/iu.test(digits) ? parseInt(digits, 16) : undefined;
  }

  /** The quantifier at `pos`, consumed with a lazy `?` after it, or undefined when there is none. */
  private quantifier(): Pick<Repeat, "min" | "max" | "source"> | undefined {
    const index = this.pos;
    const c = this.peek();
    const counts = c === "*" ? { min: 0, max: Infinity, end: index + 1 } : c === "+" ? { min: 1, max: Infinity, end: index + 1 } : c === "?" ? { min: 0, max: 1, end: index + 1 } : this.countAt(index);
    if (counts === undefined) return undefined;
    const text = this.chars.slice(index, counts.end).join("");
    if (counts.min > MAX_COUNT || (Number.isFinite(counts.max) && counts.max > MAX_COUNT)) throw new PatternProblem(`count in "${text}" ${where(index)} is above ${MAX_COUNT.toLocaleString("en-US")}`);
    if (counts.max < counts.min) throw new PatternProblem(`quantifier "${text}" ${where(index)} has its counts out of order`);
    this.pos = counts.end;
    this.eat("?");
    return { min: counts.min, max: counts.max, source: { text, index } };
  }

  private quantifierAhead(): boolean {
    const c = this.peek();
    return c === "*" || c === "+" || c === "?" || this.countAt(this.pos) !== undefined;
  }

  /** `{n}`, `{n,}` or `{n,m}` starting at `index`; undefined when the brace starts none of them. */
  private countAt(index: number): { min: number; max: number; end: number } | undefined {
    if (this.chars[index] !== "{") return undefined;
    const close = this.chars.indexOf("}", index);
    const inside = close < 0 ? "" : this.chars.slice(index + 1, close).join("");
    const match = /^(\d+)(,(\d*))?$/u.exec(inside);
    if (match === null) return undefined;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === "" ? Infinity : Number(match[3]);
    return { min, max, end: close + 1 };
  }

  private nothingToRepeat(): PatternProblem {
    const count = this.countAt(this.pos);
    const text = count === undefined ? (this.peek() ?? "") : this.chars.slice(this.pos, count.end).join("");
    return new PatternProblem(`quantifier "${text}" ${where(this.pos)} has nothing to repeat`);
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private eat(c: string): boolean {
    if (this.peek() !== c) return false;
    this.pos++;
    return true;
  }
}

export function codePointOf(c: string | undefined): number {
  return c?.codePointAt(0) ?? 0;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}
