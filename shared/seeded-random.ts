// mulberry32: a tiny, fast 32-bit PRNG. The same seed always gives the same sequence, which the
// tiny test model's weights and the fuzz drills (a failure reproduces from its printed seed) need.

/** A function returning numbers in [0, 1), the same sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
