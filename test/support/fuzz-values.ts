// Seeded random values for the fuzz drills (test/drills/fuzz-*): random JSON, hostile strings
// and numbers, and mutations of a valid value (a field's type swapped, dropped, made huge,
// negative or deeply nested). One seed gives one sequence, so a failure reproduces from the seed
// the drill prints; FUZZ_SEED picks it, else a new one each run.
import { mulberry32 } from "../../shared/seeded-random.js";

/** The seed from FUZZ_SEED, or a fresh one. */
export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  return fromEnv === undefined || fromEnv === "" ? Math.floor(Math.random() * 2 ** 32) : Number(fromEnv) >>> 0;
}

/** A count from an environment variable (for longer runs), else `fallback`. */
export function fuzzCount(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const HOSTILE_STRINGS = [
  "",
  " ",
  "../../../etc/passwd",
  "..%2f..%2fetc%2fpasswd",
  "a\u0000b",
  "%00",
  "\ud800", // a lone surrogate: not valid UTF-16, no UTF-8 form
  "\u202e\u0000\u001b[31m",
  "<script>alert(1)</script>",
  "'; DROP TABLE jobs; --",
  "__proto__",
  "constructor",
  "NaN",
  "-1",
  "1e309",
  "wrk_",
  "req_../x",
  "job_%2e%2e",
  "🐝".repeat(50),
];

const HOSTILE_NUMBERS = [0, -1, -0.5, 0.5, 1e308, -1e308, 2 ** 53 + 1, -(2 ** 31), 2 ** 32, 65536, 1e-300, Number.MAX_SAFE_INTEGER];

export class FuzzValues {
  private readonly random: () => number;

  constructor(readonly seed: number) {
    this.random = mulberry32(seed);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  bytes(length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = this.int(0, 255);
    return bytes;
  }

  /** A string that may be empty, hostile, huge, or random characters from all of Unicode. */
  string(): string {
    switch (this.int(0, 5)) {
      case 0:
        return this.pick(HOSTILE_STRINGS);
      case 1:
        return "x".repeat(this.pick([256, 4096, 100_000, 1_000_000]));
      case 2: {
        let text = "";
        for (let i = this.int(0, 40); i > 0; i--) text += String.fromCharCode(this.int(0, 0xffff));
        return text;
      }
      default: {
        let text = "";
        for (let i = this.int(1, 24); i > 0; i--) text += String.fromCharCode(this.int(32, 126));
        return text;
      }
    }
  }

  number(): number {
    return this.chance(0.5) ? this.pick(HOSTILE_NUMBERS) : (this.random() - 0.5) * 10 ** this.int(0, 12);
  }

  /** Any JSON value, up to `depth` levels of containers. */
  json(depth = 3): unknown {
    const kind = this.int(0, depth > 0 ? 7 : 4);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.number();
      case 3:
      case 4:
        return this.string();
      case 5:
        return Array.from({ length: this.int(0, 4) }, () => this.json(depth - 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = this.int(0, 4); i > 0; i--) object[this.chance(0.3) ? this.string().slice(0, 64) : `k${i}`] = this.json(depth - 1);
        return object;
      }
    }
  }

  /** `[[[…]]]` or `{"a":{"a":…}}`, `depth` levels deep, as JSON text (too deep to build as a value). */
  deeplyNestedJson(depth: number): string {
    return this.chance(0.5) ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
  }

  /** A copy of `value` with one to three mutations: a field retyped, dropped, added, or made hostile. */
  mutate(value: Record<string, unknown>): Record<string, unknown> {
    const copy = structuredClone(value);
    for (let round = this.int(1, 3); round > 0; round--) this.mutateOnce(copy);
    return copy;
  }

  private mutateOnce(target: Record<string, unknown>): void {
    // Walk down into a nested object now and then, so deep fields get mutated too.
    let object = target;
    for (;;) {
      const nested = Object.values(object).filter((child): child is Record<string, unknown> => typeof child === "object" && child !== null && !Array.isArray(child));
      if (nested.length === 0 || this.chance(0.5)) break;
      object = this.pick(nested);
    }
    const keys = Object.keys(object);
    const key = keys.length > 0 && this.chance(0.85) ? this.pick(keys) : this.string().slice(0, 32);
    switch (this.int(0, 6)) {
      case 0:
        delete object[key];
        return;
      case 1:
        object[key] = this.number();
        return;
      case 2:
        object[key] = this.string();
        return;
      case 3:
        object[key] = this.json(2);
        return;
      case 4:
        object[key] = this.pick([null, true, [], {}, -1, "", 1.5]);
        return;
      case 5: {
        // Many copies of a small value; two of a big one (a huge string a thousand times is no test).
        const copies = (JSON.stringify(object[key])?.length ?? 0) > 1000 ? 2 : this.int(1, 2000);
        object[key] = Array.from({ length: copies }, () => object[key]);
        return;
      }
      default: {
        // At most 500 levels a round: three rounds on one key made values too deep for
        // JSON.stringify itself (a RangeError in the fuzzer, not the queen). Deeper frames come
        // from deeplyNestedJson, as text.
        let nested: unknown = object[key];
        for (let i = this.int(10, 500); i > 0; i--) nested = { [key]: nested };
        object[key] = nested;
      }
    }
  }
}
