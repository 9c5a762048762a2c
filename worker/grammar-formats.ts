// GBNF expressions for JSON strings in the `format`s that clients' schemas carry and
// node-llama-cpp's schema grammar has no rule for (it writes only date-time, time and date):
// pydantic's EmailStr, UUID, IPv4Address, timedelta and HttpUrl, zod's .email(), .uuid(), .url() …
// Without a grammar the worker must refuse such a schema; with one, what the model writes passes
// the client's own validation. Where the format is wide (email, uri) the grammar writes a
// conservative, common subset that every usual validator takes: zod 4, Python's email-validator
// and ipaddress, WHATWG `new URL`, ajv-formats. Every variable part has a bounded count, so a
// model cannot write for ever inside one string.

/** A GBNF expression for a JSON string literal (with its double quotes) in `format`, or undefined when the format is not one of GRAMMAR_FORMATS. */
export function formatGrammar(format: string): string | undefined {
  const body = FORMAT_BODIES.get(format);
  return body === undefined ? undefined : `${QUOTE} ${body} ${QUOTE}`;
}

/** A double quote, as a GBNF literal. */
const QUOTE = '"\\""';

/** Letters and digits, 1 to 20 of them, joined by single `separators` (at most two): at most 62 characters. */
function joinedRuns(separators: string): string {
  return `[a-zA-Z0-9]{1,20} (${separators} [a-zA-Z0-9]{1,20}){0,2}`;
}

/** An RFC 1123 hostname label: letters, digits and hyphens, not first or last, at most 63. */
const LABEL = "[a-zA-Z0-9] ([a-zA-Z0-9-]{0,61} [a-zA-Z0-9])?";

// Hyphens only single, between letters and digits: email-validator refuses a label whose third
// and fourth characters are "--" unless it is valid Punycode ("xn--…"), and WHATWG URL parsing
// decodes "xn--" labels too. Such labels are never what an answer needs.
const PLAIN_LABEL = joinedRuns('"-"');

// email-validator refuses these top-level domains as special-use (RFC 6761, 6762, 7686).
const SPECIAL_USE_DOMAINS = ["arpa", "invalid", "local", "localhost", "onion", "test"];

// Local part ≤ 62 characters (RFC 5321: 64), domain ≤ 2 × (62 + 1) + 24 = 150 (253): 213 in all (254).
// The domain ends in a label of letters only (zod, and email-validator's "valid top-level domain"),
// and has a dot (email-validator). Quoted local parts and address literals are never written.
const EMAIL = `${joinedRuns("[._+-]")} "@" (${PLAIN_LABEL} "."){1,2} ${lettersExcept(SPECIAL_USE_DOMAINS, 2, 24)}`;

// Version 4 (random), RFC variant, lowercase: what a model writes for a new id, and what zod 4's
// .uuid() (which checks version and variant) and pydantic's UUID4 take besides any 8-4-4-4-12 check.
const UUID = '[0-9a-f]{8} "-" [0-9a-f]{4} "-" "4" [0-9a-f]{3} "-" [89ab] [0-9a-f]{3} "-" [0-9a-f]{12}';

/** 0–255 without leading zeros (Node's isIPv4 and Python's ipaddress refuse "01"). */
const OCTET = '("25" [0-5] | "2" [0-4] [0-9] | "1" [0-9] [0-9] | [1-9] [0-9] | [0-9])';
const IPV4 = `${OCTET} ("." ${OCTET}){3}`;

// Only the full form of eight groups: "::" compression and embedded IPv4 are never written.
const IPV6 = '[0-9a-f]{1,4} (":" [0-9a-f]{1,4}){7}';

// At most three labels: 191 characters, within RFC 1123's 253.
const HOSTNAME = `${LABEL} ("." ${LABEL}){0,2}`;

// RFC 3339 Appendix A, which JSON Schema's "duration" means: units in order, each at most once,
// a minute only after an hour or alone, weeks alone. "P1Y2M", "P3DT4H", "PT1H30M", "P2W".
const COUNT = '("0" | [1-9] [0-9]{0,3})';
const DURATION_TIME = `"T" (${COUNT} "H" (${COUNT} "M" (${COUNT} "S")?)? | ${COUNT} "M" (${COUNT} "S")? | ${COUNT} "S")`;
const DURATION_DATE = `(${COUNT} "Y" (${COUNT} "M" (${COUNT} "D")?)? | ${COUNT} "M" (${COUNT} "D")? | ${COUNT} "D")`;
const DURATION = `"P" (${DURATION_DATE} (${DURATION_TIME})? | ${DURATION_TIME} | ${COUNT} "W")`;

/** 1–65535, without leading zeros. */
const PORT = '([1-9] [0-9]{0,3} | [1-5] [0-9]{4} | "6" [0-4] [0-9]{3} | "65" [0-4] [0-9]{2} | "655" [0-2] [0-9] | "6553" [0-5])';

// http(s), a host name and an optional port and path: no user info, IP literals, query or
// fragment. The last label starts with a letter: WHATWG URL parsing reads a host ending in a
// number ("a.123", "a.0x1f") as an IPv4 address and refuses most. Path segments take unreserved
// characters and percent escapes. At most 8 + 169 + 6 + 4 × 73 = 475 characters.
const URI_HOST = `(${PLAIN_LABEL} "."){0,2} [a-zA-Z] ("-"? [a-zA-Z0-9]{1,20}){0,2}`;
const PATH_SEGMENT = '([a-zA-Z0-9._~-] | "%" [0-9A-F] [0-9A-F]){0,24}';
const URI = `"http" "s"? "://" ${URI_HOST} (":" ${PORT})? ("/" ${PATH_SEGMENT}){0,4}`;

const FORMAT_BODIES: ReadonlyMap<string, string> = new Map([
  ["email", EMAIL],
  ["uuid", UUID],
  ["ipv4", IPV4],
  ["ipv6", IPV6],
  ["hostname", HOSTNAME],
  ["duration", DURATION],
  ["uri", URI],
]);

/** The formats a grammar here writes, beyond node-llama-cpp's own date-time, time and date. */
export const GRAMMAR_FORMATS: ReadonlySet<string> = new Set(FORMAT_BODIES.keys());

/**
 * Patterns a framework writes beside a format as the format's own check, with a lookahead the
 * pattern compiler cannot follow, which every value of the format's grammar matches: zod 4's
 * `z.hostname()` and `z.iso.duration()`. Beside its pattern the format's grammar is enforced (a
 * test samples the grammars against these patterns and reads them from zod itself).
 */
export const FORMAT_CHECK_PATTERNS: ReadonlyMap<string, string> = new Map([
  ["hostname", "^(?=.{1,253}\\.?$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[-0-9a-zA-Z]{0,61}[0-9a-zA-Z])?)*\\.?$"],
  ["duration", "^P(?:(\\d+W)|(?!.*W)(?=\\d|T\\d)(\\d+Y)?(\\d+M)?(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+([.,]\\d+)?S)?)?)$"],
]);

/**
 * The fewest and most characters each format's grammar writes (all ASCII, none escaped), counted
 * from the grammars above (a test checks them against the grammars). pydantic writes a length beside a format (HttpUrl: `minLength: 1,
 * maxLength: 2083`); a length every written value keeps holds without a rule of its own.
 */
export const FORMAT_LENGTHS: ReadonlyMap<string, { fewest: number; most: number }> = new Map([
  ["email", { fewest: 6, most: 213 }],
  ["uuid", { fewest: 36, most: 36 }],
  ["ipv4", { fewest: 7, most: 15 }],
  ["ipv6", { fewest: 15, most: 39 }],
  ["hostname", { fewest: 1, most: 191 }],
  ["duration", { fewest: 3, most: 32 }],
  ["uri", { fewest: 8, most: 475 }],
  // node-llama-cpp's own date rule: YYYY-MM-DD.
  ["date", { fewest: 10, most: 10 }],
]);

/** Whether every value `format`'s grammar writes has a length within `minLength` and `maxLength` (each unset, or a number). */
export function formatKeepsLengths(format: string, minLength: unknown, maxLength: unknown): boolean {
  const lengths = FORMAT_LENGTHS.get(format);
  if (lengths === undefined) return false;
  return (minLength === undefined || (typeof minLength === "number" && minLength <= lengths.fewest)) && (maxLength === undefined || (typeof maxLength === "number" && maxLength >= lengths.most));
}

/**
 * Letters, `fewest` to `most` of them, that spell none of `words` (lowercase; compared without
 * case): a walk down the words' shared prefixes, leaving by any other letter or by ending where
 * no word ends.
 */
function lettersExcept(words: readonly string[], fewest: number, most: number): string {
  return lettersAfter("", words, fewest, most);
}

function lettersAfter(prefix: string, words: readonly string[], fewest: number, most: number): string {
  const nextLetters = [...new Set(words.filter((word) => word.length > prefix.length && word.startsWith(prefix)).map((word) => word[prefix.length] ?? ""))];
  const alternatives: string[] = [];
  if (most > 0) {
    const others = letterClass(nextLetters);
    if (others !== undefined) alternatives.push(`${others} ${anyLetters(Math.max(fewest - 1, 0), most - 1)}`.trimEnd());
    for (const letter of nextLetters) {
      alternatives.push(`[${letter}${letter.toUpperCase()}] ${lettersAfter(prefix + letter, words, Math.max(fewest - 1, 0), most - 1)}`.trimEnd());
    }
  }
  const mayEnd = fewest === 0 && !words.includes(prefix);
  if (alternatives.length > 0) return `(${alternatives.join(" | ")})${mayEnd ? "?" : ""}`;
  if (mayEnd) return "";
  throw new Error(`no ${fewest} letters after "${prefix}" spell none of ${words.join(", ")}`);
}

function anyLetters(fewest: number, most: number): string {
  if (most === 0) return "";
  return fewest === most ? `[a-zA-Z]{${most}}` : `[a-zA-Z]{${fewest},${most}}`;
}

/** A class of the letters (either case) other than `excluded`, or undefined when none is left. */
function letterClass(excluded: readonly string[]): string | undefined {
  const ranges: string[] = [];
  let start: string | undefined;
  for (let code = 97; code <= 123; code++) {
    const letter = code <= 122 ? String.fromCharCode(code) : undefined;
    const included = letter !== undefined && !excluded.includes(letter);
    if (included && start === undefined) start = letter;
    if (!included && start !== undefined) {
      const end = String.fromCharCode(code - 1);
      ranges.push(start === end ? start : `${start}-${end}`);
      start = undefined;
    }
  }
  if (ranges.length === 0) return undefined;
  return `[${ranges.join("")}${ranges.join("").toUpperCase()}]`;
}
