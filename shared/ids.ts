// Prefixed random ids (`wrk_…`, `req_…`): unguessable, URL- and path-safe, and checkable
// before anything uses them as a key, a header or part of a path.

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
const ID_BODY_LENGTH = 20;

export type IdPrefix = "wrk" | "req" | "hive" | "job" | "key" | "resp" | "msg" | "fc" | "fco";

/** A new id such as `wrk_3k9x…`: 20 base-36 characters (~103 bits) from the platform CSPRNG. */
export function newId(prefix: IdPrefix): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_BODY_LENGTH));
  let body = "";
  for (const byte of bytes) body += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${body}`;
}

/** A regex for ids of one prefix; also accepts ids made elsewhere as long as they stay safe. */
export function idPattern(prefix: IdPrefix): RegExp {
  return new RegExp(`^${prefix}_[A-Za-z0-9]{1,64}$`);
}
