// Compares the pieces of text a stream delivered with those the same request delivered another
// way (bench/streams.ts: through the queen against direct, same seed): how many were lost,
// duplicated or arrived out of order.

export interface TokenDifferences {
  /** Pieces of the reference missing from the stream. */
  lost: number;
  /** Pieces the stream has more often than the reference. */
  duplicated: number;
  /** Pieces present in both but not in the reference's order. */
  reordered: number;
}

export function compareTokens(reference: readonly string[], received: readonly string[]): TokenDifferences {
  const counts = new Map<string, number>();
  for (const piece of reference) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  let duplicated = 0;
  for (const piece of received) {
    const left = counts.get(piece) ?? 0;
    if (left > 0) counts.set(piece, left - 1);
    else duplicated++;
  }
  let lost = 0;
  for (const left of counts.values()) lost += left;
  const common = reference.length - lost;
  return { lost, duplicated, reordered: common - longestCommonSubsequence(reference, received) };
}

export function addDifferences(a: TokenDifferences, b: TokenDifferences): TokenDifferences {
  return { lost: a.lost + b.lost, duplicated: a.duplicated + b.duplicated, reordered: a.reordered + b.reordered };
}

export const NO_DIFFERENCES: TokenDifferences = { lost: 0, duplicated: 0, reordered: 0 };

/** Length of the longest common subsequence; one row of the table at a time. */
function longestCommonSubsequence(a: readonly string[], b: readonly string[]): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) row[j] = x === b[j - 1] ? (previous[j - 1] as number) + 1 : Math.max(previous[j] as number, row[j - 1] as number);
    previous = row;
  }
  return previous[b.length] as number;
}
