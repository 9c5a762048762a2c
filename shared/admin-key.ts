// The shortest admin key rbee takes: the queen refuses a shorter RBEE_ADMIN_KEY secret
// (queen/auth/api-key.ts) and `npm start` a shorter RBEE_API_KEY or RBEE_ADMIN_KEY
// (scripts/local-cloud/local-key.ts), so both say the same number.
//
// The admin key opens every route: it makes keys, starts jobs on every hive (downloads, worker
// builds, `file:` paths) and reads everyone's usage. A person's choice of secret can only be
// checked for length; 16 characters rules out words, names and PINs ("abc", "admin", "changeme")
// and is above the 15 that NIST SP 800-63B asks of a password used on its own. The keys rbee
// makes are longer still: npm start's has 40 characters (128 random bits), the README's
// `openssl rand -hex 32` 64.

export const MIN_ADMIN_KEY_LENGTH = 16;

/** The id the admin key goes by where keys have ids (usage, logs): it has no row among the keys. */
export const BOOTSTRAP_KEY_ID = "admin";

export function isTooShortForAdminKey(key: string): boolean {
  return key.length < MIN_ADMIN_KEY_LENGTH;
}
