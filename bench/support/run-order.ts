// The order of the modes in each benchmark round: every permutation in turn, so that over a
// multiple of 6 rounds each mode runs equally often in each position and after each other mode.
// A plain rotation (A B C, B C A, …) would always run B right after A, and whatever A leaves
// behind (a busy worker, garbage to collect) would always land on B.

/** All orderings of `items`, in a fixed order. */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

/** The order for round `round` (0-based), cycling through every permutation of `items`. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const all = permutations(items);
  return all[round % all.length] as T[];
}
