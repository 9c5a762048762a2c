// Whether a model's text is one whole JSON value: a grammar-constrained answer or a tool call's
// arguments that max_tokens may have cut before the value closed.

export function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
