// Anthropic's error body, `{type:"error", error:{type, message}}`, and its error types by HTTP
// status: for whole answers (errors.ts) and for the `error` event of a stream (stream.ts).

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "overloaded_error"
  | "timeout_error"
  | "api_error";

export function anthropicErrorType(status: number): AnthropicErrorType {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 503 || status === 529) return "overloaded_error";
  if (status === 504) return "timeout_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

export function anthropicErrorBody(status: number, message: string) {
  return { type: "error" as const, error: { type: anthropicErrorType(status), message } };
}

/** An error's message as Anthropic's clients read it: the queen's code kept at its end, for a person to act on. */
export function messageWithCode(message: string, code: string | null | undefined): string {
  return code ? `${message} (${code})` : message;
}
