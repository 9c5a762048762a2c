// Anthropic's error shape for everything under /v1/messages: `{type:"error", error:{type,
// message}}` with Anthropic's error types. A middleware mounted before authentication, so that a
// missing key, a refused field, a full queue or a worker's failure all read as Anthropic's
// clients expect; the queen's own code is kept in the message so a person can still act on it.
import { z } from "zod";
import { rewriteErrorBodies } from "../../http/error-body-rewrite.js";
import { anthropicErrorBody, messageWithCode } from "./error-shape.js";

const OpenAiError = z.object({ error: z.object({ message: z.string(), code: z.string().nullish() }) });

/**
 * Fields of the chat request a Messages request is served as (to-chat.ts), named in the worker's
 * messages, and the Messages fields they came from.
 */
const CHAT_FIELDS: ReadonlyArray<[RegExp, string]> = [
  [/\btools\[(\d+)\]\.function\.parameters\b/g, "tools[$1].input_schema"],
  [/\btools\[(\d+)\]\.function\./g, "tools[$1]."],
  [/\bresponse_format\.json_schema\.schema\b/g, "output_config.format.schema"],
  [/\bresponse_format\b/g, "output_config.format"],
];

export const anthropicErrors = rewriteErrorBodies((body, status) => {
  const parsed = OpenAiError.safeParse(body);
  if (!parsed.success) return undefined;
  const { code, message } = parsed.data.error;
  const named = CHAT_FIELDS.reduce((text, [pattern, field]) => text.replace(pattern, field), message);
  return anthropicErrorBody(status, messageWithCode(named, code));
});
