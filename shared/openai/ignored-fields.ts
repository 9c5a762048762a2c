// Fields of a request body that are no part of the OpenAI API (nor of rbee's extensions): they
// are ignored, as other compatible servers ignore them, and the queen names them in the
// `x-rbee-ignored-fields` response header (inference-headers.ts) so a puzzled user can see why
// they had no effect. The request schemas strip them, so no worker ever sees them.
//
// A field's name is whatever a client put in its JSON: a NUL, a line break or a non-Latin-1
// character in a header value makes the Response constructor throw, and ten thousand fields make
// a header no client or proxy accepts. So each name is percent-encoded (`cache_prompt` stays as
// it is), cut at MAX_NAME_CHARS, and the header lists MAX_LISTED names at most.

import { IGNORED_FIELDS_HEADER } from "./inference-headers.js";

/** Most names the header lists; the rest are counted (`+N more`). */
export const MAX_LISTED = 32;
/** Longest name the header shows, in characters before encoding; a longer one ends with `...`. */
export const MAX_NAME_CHARS = 64;

/** The top-level keys of `body` that `schema` does not know, in the order they came. */
export function ignoredFields(schema: { shape: Record<string, unknown> }, body: unknown): string[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return [];
  return Object.keys(body).filter((key) => !Object.hasOwn(schema.shape, key));
}

/** The `x-rbee-ignored-fields` header naming `body`'s fields outside `schema`; none when there are none. */
export function ignoredFieldsHeader(schema: { shape: Record<string, unknown> }, body: unknown): Record<string, string> {
  const ignored = ignoredFields(schema, body);
  if (ignored.length === 0) return {};
  const listed = ignored.slice(0, MAX_LISTED).map(headerSafeName);
  if (ignored.length > MAX_LISTED) listed.push(`+${ignored.length - MAX_LISTED} more`);
  return { [IGNORED_FIELDS_HEADER]: listed.join(",") };
}

/** `name` as header-safe ASCII with no comma: percent-encoded, cut short when long. */
function headerSafeName(name: string): string {
  const cut = name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS)}...` : name;
  // encodeURIComponent throws on a lone surrogate, which JSON's \ud800 escape can make.
  return encodeURIComponent(cut.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"));
}
