// Hashes of presented API keys that D1 did not know, remembered for a short while per isolate
// (key-cache.ts consults it), so that a client repeating a wrong key, or a flood of them, costs
// no D1 read each time. Bounded: a flood of distinct random keys evicts the oldest entries and
// can never grow the isolate's memory past UNKNOWN_KEYS_MAX_ENTRIES.
//
// A key created after being refused would stay refused for the TTL in an isolate that cached the
// refusal; the create route forgets the new key's hash here, so the isolate that created it
// accepts it at once. New keys are random (256 bits), so no other isolate has seen them before.

import { BoundedMap } from "../../shared/bounded-map.js";

/** Most unknown hashes held at once (~100 bytes each); the oldest go first. */
export const UNKNOWN_KEYS_MAX_ENTRIES = 10_000;

// Module state is per isolate.
const refusedAtMs = new BoundedMap<string, number>(UNKNOWN_KEYS_MAX_ENTRIES);

/** Whether `keyHash` was refused as unknown within the last `ttlMs`. */
export function isKnownUnknown(keyHash: string, ttlMs: number, nowMs: number): boolean {
  const at = refusedAtMs.get(keyHash);
  if (at === undefined) return false;
  if (nowMs - at < ttlMs) return true;
  refusedAtMs.delete(keyHash);
  return false;
}

/** Remembers that D1 has no key with `keyHash`. */
export function rememberUnknown(keyHash: string, nowMs: number): void {
  refusedAtMs.set(keyHash, nowMs);
}

/** Forgets a refusal: the key with `keyHash` exists now. */
export function forgetUnknown(keyHash: string): void {
  refusedAtMs.delete(keyHash);
}

/** How many unknown hashes this isolate holds; for tests that check the bound. */
export function unknownKeyCount(): number {
  return refusedAtMs.size;
}
