/** A JSON object (not null, not an array), whose keys can be read without a schema. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
