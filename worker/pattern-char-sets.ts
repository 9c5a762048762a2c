// Sets of code points, as sorted ranges: what a pattern's characters, escapes and classes take.
// The pattern parser (pattern-parser.ts) builds them; grammar-pattern.ts intersects them with what
// JSON writes raw, and gbnf-tree.ts writes them as GBNF classes.

/** Code points as sorted, disjoint, non-touching inclusive ranges. */
export type CharSet = readonly (readonly [number, number])[];

export const MAX_CODE_POINT = 0x10ffff;

export function charSet(ranges: readonly (readonly [number, number])[]): CharSet {
  const merged: [number, number][] = [];
  for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1);
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return merged;
}

export function single(codePoint: number): CharSet {
  return [[codePoint, codePoint]];
}

export function union(sets: readonly CharSet[]): CharSet {
  return charSet(sets.flat());
}

export function complement(set: CharSet): CharSet {
  const gaps: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) gaps.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) gaps.push([next, MAX_CODE_POINT]);
  return gaps;
}

export function intersect(a: CharSet, b: CharSet): CharSet {
  return complement(union([complement(a), complement(b)]));
}

export function contains(set: CharSet, codePoint: number): boolean {
  return set.some(([lo, hi]) => lo <= codePoint && codePoint <= hi);
}

export const DIGIT = charSet([[0x30, 0x39]]);
export const WORD = charSet([[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]);
/** ECMA-262's WhiteSpace and LineTerminator, what `\s` takes. */
export const SPACE = charSet([[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff]]);
export const LINE_TERMINATORS = charSet([[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]]);
export const EVERYTHING = complement([]);
