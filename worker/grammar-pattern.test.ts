// patternGrammar checked against llama.cpp itself: the tiny model writes texts under each
// pattern's grammar and every one must be a JSON string whose value the pattern matches; llama.cpp's
// own grammar engine says which encoded texts a grammar takes, compared value by value with
// JavaScript's RegExp (with the `u` flag, as ajv reads JSON Schema patterns); and each refused
// construct gets a problem that names it and where.
import { getLlama, type Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disposeGrammarSamples, sampleGrammar } from "../test/support/grammar-samples.js";
import { patternGrammar } from "./grammar-pattern.js";

function grammarOf(pattern: string): string {
  const result = patternGrammar(pattern);
  if ("problem" in result) throw new Error(`${JSON.stringify(pattern)} was refused: ${result.problem}`);
  return result.grammar;
}

function problemOf(pattern: string): string | undefined {
  const result = patternGrammar(pattern);
  return "problem" in result ? result.problem : undefined;
}

function matches(pattern: string, value: string): boolean {
  return new RegExp(pattern, "u").test(value);
}

/** The binding's whole-text check, which node-llama-cpp keeps internal (`LlamaGrammar._testText`). */
interface TextTester {
  _testText(text: string): boolean;
}

let llama: Llama;

/** Whether llama.cpp's grammar engine takes `text`, whole, under `root ::= <expression>`; throws if it cannot parse the grammar. */
async function grammarAcceptor(expression: string): Promise<(text: string) => boolean> {
  const grammar: unknown = await llama.createGrammar({ grammar: `root ::= ${expression}` });
  const tester = grammar as TextTester;
  expect(typeof tester._testText).toBe("function");
  return (text) => tester._testText(text);
}

/** Values to compare grammar and RegExp on: every string of up to two of these, and a few longer. */
function candidateValues(): string[] {
  const alphabet = ["a", "b", "c", "1", "-", " ", '"', "\\", "\n", "\t", "é", "中", "😀"];
  const values = [""];
  for (const x of alphabet) {
    values.push(x);
    for (const y of alphabet) values.push(x + y);
  }
  return [...values, "abc", "xabcx", "aaa", "abab", "ABC-1234", "cats", "dogs", "12345-6789", "1.22.333.4", "a\u2028b", "\u00a0", "😀😀😁", "a\"b\\c"];
}
const CANDIDATES = candidateValues();

/** A deterministic PRNG (mulberry32), so the generated patterns are the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPattern(next: () => number, pieces: readonly string[]): string {
  const length = 1 + Math.floor(next() * 8);
  return Array.from({ length }, () => pieces[Math.floor(next() * pieces.length)] ?? "").join("");
}

beforeAll(async () => {
  llama = await getLlama({ build: "never", gpu: false });
});

afterAll(async () => {
  await disposeGrammarSamples();
});

describe("texts the model writes under a pattern's grammar", () => {
  const bounded: { pattern: string; varied?: boolean }[] = [
    { pattern: "^[A-Z]{3}-\\d{4}$", varied: true },
    { pattern: "^(cat|dog)s?$", varied: true },
    { pattern: "^\\w{1,8}@\\w{1,8}\\.com$", varied: true },
    { pattern: '^[^"\\\\a-z]{1,8}$', varied: true },
    { pattern: '^["\\\\/]{2,6}x?$', varied: true },
    { pattern: "^\\d{5}(-\\d{4})?$" },
    { pattern: "^.{2,4}$", varied: true },
    { pattern: "^[\\u00e9\\u4e2d]{1,4}$", varied: true },
    { pattern: "^😀{1,2}[😀-😂]$" },
    { pattern: "^(\\d{1,3}\\.){3}\\d{1,3}$" },
    { pattern: "^a{2}$|^b{3}$" },
    { pattern: "^[\\t\\n\\r]{1,3}\\s?$" },
  ];

  it.each(bounded)("are JSON strings that $pattern matches", async ({ pattern, varied }) => {
    const texts = await sampleGrammar(grammarOf(pattern), 15);
    const values = texts.map((text) => JSON.parse(text) as unknown);
    for (const value of values) {
      expect(typeof value).toBe("string");
      expect(matches(pattern, String(value)), `${JSON.stringify(value)} under ${pattern}`).toBe(true);
    }
    if (varied === true) expect(new Set(values).size).toBeGreaterThan(1);
  });

  // A text cut at maxTokens is not JSON (the grammar writes a bare `"` only to close the string);
  // one the grammar let end is, and must match.
  it.each(["^ab", "^(a|)*b?$", '^[a-z"]*$', "x$"])("that end are JSON strings that %s matches", async (pattern) => {
    const texts = await sampleGrammar(grammarOf(pattern), 15, 40);
    const ended = texts.flatMap((text) => (text.endsWith('"') ? [JSON.parse(text) as string] : []));
    for (const value of ended) expect(matches(pattern, value), JSON.stringify(value)).toBe(true);
    if (pattern !== "x$") expect(ended.length).toBeGreaterThan(0);
  });
});

describe("the encoded texts a pattern's grammar takes", () => {
  const patterns = [
    "abc",
    "^ab",
    "c$",
    "",
    "^$",
    "^a|b$",
    "a|^b",
    "[^a]",
    "^[^a]$",
    ".",
    "^.$",
    "^.*$",
    "\\s",
    "^\\S+$",
    "\\W",
    "^\\D?$",
    "^[\\w-]+$",
    "^[-a]$",
    "^[a-]$",
    "^(a|)*b$",
    "^(a?b?)*$",
    "^(?:a{0,2}){2,}$",
    '^"\\\\',
    '^["\\\\]{2}$',
    "^\\n\\t$",
    "[\\b]",
    "^[^\\n]*$",
    "^[é😀]+$",
    "^\\u00e9$",
    "^\\u{1F600}$",
    "^\\uD83D\\uDE00$",
    "^\\x61\\.\\x2d$",
    "(?<word>ab)c",
    "^a{2,}$",
    "^(ab){1,2}$",
    "^[^]$",
    "^\\d{5}(-\\d{4})?$",
    "^(\\d{1,3}\\.){3}\\d{1,3}$",
    "^[A-Z]{3}-\\d{4}$",
    "^(cat|dog)s?$",
    "^😀{1,2}[😀-😂]$",
  ];

  it.each(patterns)("are the JSON encodings of the values %s matches", async (pattern) => {
    const accepts = await grammarAcceptor(grammarOf(pattern));
    for (const value of CANDIDATES) {
      expect(accepts(JSON.stringify(value)), `${JSON.stringify(value)} under ${pattern}`).toBe(matches(pattern, value));
    }
  });

  it("take only what a JSON encoder writes: no raw quote, backslash or control character, no \\u escapes", async () => {
    const accepts = await grammarAcceptor(grammarOf(""));
    expect(accepts('"a\\"b\\\\c\\n"')).toBe(true);
    expect(accepts('"a"b"')).toBe(false);
    expect(accepts('"a\\b"')).toBe(true);
    expect(accepts('"a\\x"')).toBe(false);
    expect(accepts('"\n"')).toBe(false);
    expect(accepts('"\u0001"')).toBe(false);
    expect(accepts('"\\u0061"')).toBe(false);
    expect(accepts('"\\/"')).toBe(false);
  });

  it("leave out control characters with no short escape, which an encoder writes as \\u00XX", async () => {
    const accepts = await grammarAcceptor(grammarOf("^[\\x00-\\x1f]$"));
    expect(accepts(JSON.stringify("\n"))).toBe(true);
    expect(accepts(JSON.stringify("\u0001"))).toBe(false);
  });

  it("agree with RegExp on generated patterns, and llama.cpp parses every grammar", async () => {
    const pieces = ["a", "b", '"', "\\\\", "\\n", ".", "\\d", "\\w", "\\s", "\\S", "[ab]", "[^a]", "(", ")", "(?:", "|", "*", "+", "?", "{1,2}", "{2}", "{0,}", "^", "$", "é", "😀", "-"];
    const next = random(7);
    let compared = 0;
    for (let i = 0; i < 300; i++) {
      const pattern = randomPattern(next, pieces);
      const result = patternGrammar(pattern);
      if ("problem" in result) continue;
      const accepts = await grammarAcceptor(result.grammar);
      let valid = true;
      try {
        new RegExp(pattern, "u");
      } catch {
        valid = false;
      }
      if (!valid) continue;
      compared++;
      for (const value of CANDIDATES.slice(0, 100)) {
        expect(accepts(JSON.stringify(value)), `${JSON.stringify(value)} under ${pattern}`).toBe(matches(pattern, value));
      }
    }
    expect(compared).toBeGreaterThan(50);
  });
});

describe("the grammar's text", () => {
  it("keeps a long count as one repetition", async () => {
    const grammar = grammarOf("^[a-z]{1,1000}$");
    expect(grammar).toBe('"\\x22" [a-z]{1,1000} "\\x22"');
    await grammarAcceptor(grammar);
  });

  it("reads Python's named groups, which pydantic passes on as written, as ECMA-262's", () => {
    expect(grammarOf("^(?P<year>\\d{4})-(?P<month>\\d{2})$")).toBe(grammarOf("^(?<year>\\d{4})-(?<month>\\d{2})$"));
  });

  it("writes a run of literal characters as one literal", () => {
    expect(grammarOf("^hello, world$")).toBe('"\\x22hello\\x2C\\x20world\\x22"');
  });

  it("writes a pattern of 50,000 literal characters as one literal, in one pass (merging run by run took two minutes)", () => {
    const text = "abcdefghij".repeat(5000);
    expect(grammarOf(`^${text}$`)).toBe(`"\\x22${text}\\x22"`);
  });

  it("writes every character but ASCII letters and digits as a hex escape", () => {
    expect(grammarOf('^"\\\\[é😀\\]-]$')).toBe('"\\x22\\x5C\\x22\\x5C\\x5C" [\\x2D\\x5D\\xE9\\U0001F600] "\\x22"');
  });
});

describe("refused patterns", () => {
  const refused: [string, string][] = [
    ["ab(?=c)", 'lookahead "(?=" at character 3 cannot be enforced'],
    ["(?!a)b", 'lookahead "(?!" at character 1 cannot be enforced'],
    ["(?<=a)b", 'lookbehind "(?<=" at character 1 cannot be enforced'],
    ["(?<!a)b", 'lookbehind "(?<!" at character 1 cannot be enforced'],
    ["(a)\\1", 'backreference "\\1" at character 4 cannot be enforced'],
    ["(?<x>a)\\k<x>", 'named backreference "\\k" at character 8 cannot be enforced'],
    ["\\01", 'octal escape or backreference "\\01" at character 1 cannot be enforced'],
    ["a\\b", 'word boundary "\\b" at character 2 cannot be enforced'],
    ["\\Ba", 'word boundary "\\B" at character 1 cannot be enforced'],
    ["a^b", 'start anchor "^" at character 2 cannot be enforced: only at the start of the pattern or of one of its top-level alternatives'],
    ["(^a)", 'start anchor "^" at character 2 cannot be enforced: only at the start of the pattern or of one of its top-level alternatives'],
    ["a$b", 'end anchor "$" at character 2 cannot be enforced: only at the end of the pattern or of one of its top-level alternatives'],
    ["(a$)", 'end anchor "$" at character 3 cannot be enforced: only at the end of the pattern or of one of its top-level alternatives'],
    ["/^a$/i", 'start anchor "^" at character 2 cannot be enforced: only at the start of the pattern or of one of its top-level alternatives; write the pattern without /slashes/ and flags'],
    ["(ab", 'group "(" at character 1 is never closed'],
    ["ab)", 'unmatched ")" at character 3'],
    ["[ab", 'character class "[" at character 1 is never closed'],
    ["ab]", 'lone "]" at character 3; write \\] for a literal one'],
    ["a}", 'lone "}" at character 2; write \\} for a literal one'],
    ["a{,3}", 'lone "{" at character 2 is not a quantifier; write \\{ for a literal brace'],
    ["*a", 'quantifier "*" at character 1 has nothing to repeat'],
    ["a|+b", 'quantifier "+" at character 3 has nothing to repeat'],
    ["^?", 'quantifier "?" at character 2 has nothing to repeat'],
    ["{2}", 'quantifier "{2}" at character 1 has nothing to repeat'],
    ["a**", 'quantifier "*" at character 3 has nothing to repeat'],
    ["a{2}{3}", 'quantifier "{3}" at character 5 has nothing to repeat'],
    ["a{1001}", 'count in "{1001}" at character 2 is above 1,000'],
    ["a{2,1001}", 'count in "{2,1001}" at character 2 is above 1,000'],
    ["a{3,2}", 'quantifier "{3,2}" at character 2 has its counts out of order'],
    ["(?i)a", 'inline flags "(?i" at character 1 cannot be enforced: JSON Schema patterns take no flags'],
    ["(?i:a)", 'inline flags "(?i" at character 1 cannot be enforced: JSON Schema patterns take no flags'],
    ["(?#x)", 'unknown group "(?#" at character 1'],
    ["(?<1>a)", 'named group "(?<" at character 1 needs a name and a closing ">"'],
    ["\\p{L}", 'Unicode property escape "\\p{…}" at character 1 cannot be enforced'],
    ["\\P{L}", 'Unicode property escape "\\P{…}" at character 1 cannot be enforced'],
    ["a\\e", 'unknown escape "\\e" at character 2'],
    ["\\cJ", 'unknown escape "\\c" at character 1'],
    ["ab\\", 'pattern ends with a lone "\\" at character 3'],
    ["\\x4", 'escape "\\x" at character 1 needs 2 hex digits'],
    ["\\u12", 'escape "\\u" at character 1 needs 4 hex digits'],
    ["\\u{110000}", 'escape "\\u{" at character 1 needs a code point in hex up to 10FFFF and a closing "}"'],
    ["[z-a]", 'range "-" at character 3 is out of order: z comes after a'],
    ["[\\d-z]", 'range "-" at character 4 has a class such as \\d at one end; write \\- for a literal dash'],
    ["(\\w{1,100}\\.){1,20}", 'repetition "{1,20}" at character 14 repeats too much for a grammar: 20 copies of a part of 100 grammar rules, where llama.cpp takes fewer than 2,000 in all'],
    ["😀(?=a)", 'lookahead "(?=" at character 2 cannot be enforced'],
  ];

  it.each(refused)("refuses %s: %s", (pattern, problem) => {
    expect(problemOf(pattern)).toBe(problem);
  });

  it("refuses a pattern that matches no text the grammar can write", () => {
    for (const pattern of ["[]", "^\\x01$", "a[]b", "^[^\\s\\S]$"]) expect(problemOf(pattern)).toMatch(/^pattern matches no string the grammar can write/);
  });

  it("refuses groups nested deeper than 100", () => {
    expect(problemOf(`${"(".repeat(101)}a${")".repeat(101)}`)).toBe("group at character 101 is nested deeper than 100 groups");
    expect(problemOf(`${"(".repeat(100)}a${")".repeat(100)}`)).toBeUndefined();
  });

  it("never throws, whatever the string", () => {
    const odd = ["", "(", ")", "[", "]", "{", "}", "\\", "|", "||", "^", "$", "$^", "(?", "(?<", "(?<a", "[^", "[\\", "\\u{", "\\u{}", "\\x", "a{", "a{1", "a{1,", "\uD800", "\uDC00a", "\u0000", "(".repeat(100_000), "[".repeat(1000), "a?".repeat(5000), "(a|)*".repeat(500)];
    const next = random(11);
    const alphabet = "()[]{}^$|\\?*+.-:=!<>,0123456789abdkpuxDSWBc\"é😀";
    const chars = Array.from(alphabet);
    for (let i = 0; i < 3000; i++) odd.push(randomPattern(next, chars));
    for (const pattern of odd) {
      const result = patternGrammar(pattern);
      expect("grammar" in result || "problem" in result).toBe(true);
    }
  });
});
