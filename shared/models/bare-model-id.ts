// Model ids without a scheme, `meta-llama/Llama-2-7b` (the form the original rbee and most tools
// use), are Hugging Face repositories: the queen's schema lets them through, the hive parses them
// as `hf:` ids, and the model name is derived as for the `hf:` spelling, so both are one model.

/** `org/repo…` with no scheme in front: starts with a letter or digit and has no `:` before the first `/`. */
export const BARE_HUGGING_FACE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9]/;

/** The id with `hf:` in front when it is a bare `org/repo…` id; any other id as it is. */
export function withHuggingFacePrefix(id: string): string {
  return BARE_HUGGING_FACE_ID.test(id) ? `hf:${id}` : id;
}
