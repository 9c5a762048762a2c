// The order of the modes in each benchmark round: the rows of a balanced Latin square (a Williams
// design), so that over a multiple of its rows' count (n rounds for an even number n of modes, 2n
// for an odd one) each mode runs equally often in each position and right after each other mode.
// A plain rotation (A B C, B C A, …) would always run B right after A, and whatever A leaves
// behind (a busy worker, garbage to collect) would always land on B. Every permutation in turn would balance too, but only over n! rounds: 120 for
// five modes, where a run of 12 rounds would start every round with the same mode.

/** The orders of `count` modes (as indexes), each round's in turn. */
function balancedOrders(count: number): number[][] {
  // First row 0, 1, n-1, 2, n-2, …; each next row adds 1 to every entry, modulo n.
  const first = Array.from({ length: count }, (_, i) => (i % 2 === 1 ? (i + 1) / 2 : (count - i / 2) % count));
  const rows = Array.from({ length: count }, (_, shift) => first.map((index) => (index + shift) % count));
  // With an odd count each mode follows each other once in the square or in its mirror.
  return count % 2 === 0 ? rows : [...rows, ...rows.map((row) => [...row].reverse())];
}

/** The order for round `round` (0-based) of `items`. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const orders = balancedOrders(items.length);
  return (orders[round % orders.length] ?? []).map((index) => items[index] as T);
}
