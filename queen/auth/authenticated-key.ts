// What the queen knows about the API key behind a request: scopes decide which routes it may
// call, and its id is what usage is counted under.
import { z } from "zod";
import { idPattern } from "../../shared/ids.js";
import { BOOTSTRAP_KEY_ID } from "../../shared/admin-key.js";
import { Scope } from "../../shared/key-scopes.js";
import type { KeyLimits } from "../limits/key-limits.js";

// The scopes are shared with the CLI (shared/key-scopes.ts).
export { Scope };

// Usage of the bootstrap key (the RBEE_ADMIN_KEY secret) is counted under this id; the CLI knows it too.
export { BOOTSTRAP_KEY_ID };

/** An API key id as stored in D1 (`key_…`), safe in URLs and queries. */
export const ApiKeyId = z.string().regex(idPattern("key"), "must be an API key id such as key_abc123 (letters and digits after key_)");

export interface AuthenticatedKey {
  /** `key_…` for keys in D1, `admin` for the bootstrap key. */
  id: string;
  scopes: readonly Scope[];
  /** Limits an admin set on the key; absent for the bootstrap key. */
  limits?: KeyLimits;
  /** The only models the key may use (auth/key-models.ts); absent or null: every model. */
  models?: readonly string[] | null;
  /** The SHA-256 of the secret presented, for keys in D1: a rotation (routes/keys.ts) replaces it. */
  secretHash?: string;
}
