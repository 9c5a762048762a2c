// Hashing and comparing secrets (API keys, hive tokens). Secrets are stored only as SHA-256
// hashes and compared in constant time, so neither a leaked table nor timing reveals them.

const encoder = new TextEncoder();

export async function sha256Hex(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(secret));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Constant-time equality of a presented secret and a stored SHA-256 hex hash. */
export async function secretMatchesHash(secret: string, expectedHashHex: string): Promise<boolean> {
  return hashesMatch(await sha256Hex(secret), expectedHashHex);
}

/** Constant-time equality of two SHA-256 hex hashes. */
export function hashesMatch(presentedHashHex: string, expectedHashHex: string): boolean {
  const presented = encoder.encode(presentedHashHex);
  const expected = encoder.encode(expectedHashHex);
  // timingSafeEqual needs equal lengths; both are 64 hex chars unless the stored hash is corrupt.
  if (presented.byteLength !== expected.byteLength) return false;
  return crypto.subtle.timingSafeEqual(presented, expected);
}

/** A new random secret such as `rbee_ht_…`, 32 bytes of entropy in base64url. */
export function newSecret(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const base64 = btoa(String.fromCharCode(...bytes));
  return `${prefix}${base64.replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "")}`;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}
