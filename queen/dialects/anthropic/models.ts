// GET /v1/models in Anthropic's shape, for Anthropic's clients (they send `anthropic-version`):
// `{type: "model", id, display_name, created_at}` entries in `{data, has_more, first_id, last_id}`.
// rbee's own fields (state, estimated_wait_seconds, hives, alias_for) ride along, as in the
// OpenAI shape. Every model is on one page: has_more is false.

/** A model as routes/models.ts describes it, in OpenAI's shape. */
interface OpenAiModelEntry {
  id: string;
  object: string;
  created: number;
  owned_by: string;
}

export function anthropicModel<T extends OpenAiModelEntry>(entry: T) {
  const { object: _object, created, owned_by: _owner, ...rest } = entry;
  return { type: "model", ...rest, display_name: entry.id, created_at: new Date(created * 1000).toISOString() };
}

export function anthropicModelList<T extends OpenAiModelEntry>(entries: readonly T[]) {
  const data = entries.map(anthropicModel);
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
