// Reads an OpenAI error body out of text a worker or hive wrote: a relayed 5xx body, an error
// event of a stream. Loose on purpose: whatever they wrote, a field of the wrong kind gets a safe
// value, and anything that is not an error body at all is told apart.
import { z } from "zod";
import type { OpenAiErrorBody } from "../../shared/errors.js";

const ErrorBody = z.object({
  error: z.object({
    message: z.string().catch(""),
    type: z.enum(["invalid_request_error", "authentication_error", "permission_error", "rate_limit_error", "server_error"]).catch("server_error"),
    param: z.string().nullable().catch(null),
    code: z.string().nullable().catch(null),
  }),
});

/** The OpenAI error body in `json`, or undefined when it is something else. */
export function errorBodyOf(json: string): OpenAiErrorBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const body = ErrorBody.safeParse(parsed);
  return body.success ? body.data : undefined;
}
