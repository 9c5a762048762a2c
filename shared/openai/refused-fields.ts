// How rbee's OpenAI request schemas say "no" out loud: a field of the OpenAI API that rbee does
// not honour is refused with a 400 naming it, unless it carries the value that asks for nothing
// (absent, null, or its documented "off" value). Fields that never change the answer (`user`,
// `metadata`…) are accepted as they are. The chat, completions and embeddings schemas use these.
import { z } from "zod";

/**
 * A field refused whenever it asks for something: absent, null and the `off` values pass,
 * anything else is a 400 whose message (after the field's name) is `reason`.
 */
export function refused(reason: string, ...off: ReadonlyArray<string | number | boolean>) {
  return z
    .unknown()
    .refine((value) => value === null || off.includes(value as string | number | boolean), { message: `not supported: ${reason}` })
    .optional();
}

/**
 * Fields of the OpenAI API that identify or label a request but never change its answer; rbee
 * accepts them and, storing nothing, has no use for them (see the README's table of fields).
 */
export const NoEffectFields = {
  /** An end-user id for the provider's abuse monitoring. */
  user: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  /** A hint for the provider's prompt cache; llama.cpp reuses a slot's cache on its own. */
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.string().nullish(),
  /** Labels for stored completions; rbee stores none (see `store`). */
  metadata: z.record(z.string(), z.string()).nullish(),
  /** Processing tier; every request of rbee is served alike. */
  service_tier: z.string().nullish(),
};
