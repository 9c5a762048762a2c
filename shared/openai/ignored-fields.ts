// Fields of a request body that are no part of the OpenAI API (nor of rbee's extensions): they
// are ignored, as other compatible servers ignore them, and the queen names them in the
// `x-rbee-ignored-fields` response header (inference-headers.ts) so a puzzled user can see why
// they had no effect. The request schemas strip them, so no worker ever sees them.

import { IGNORED_FIELDS_HEADER } from "./inference-headers.js";

/** The top-level keys of `body` that `schema` does not know, in the order they came. */
export function ignoredFields(schema: { shape: Record<string, unknown> }, body: unknown): string[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return [];
  return Object.keys(body).filter((key) => !Object.hasOwn(schema.shape, key));
}

/** The `x-rbee-ignored-fields` header naming `body`'s fields outside `schema`; none when there are none. */
export function ignoredFieldsHeader(schema: { shape: Record<string, unknown> }, body: unknown): Record<string, string> {
  const ignored = ignoredFields(schema, body);
  return ignored.length === 0 ? {} : { [IGNORED_FIELDS_HEADER]: ignored.join(",") };
}
