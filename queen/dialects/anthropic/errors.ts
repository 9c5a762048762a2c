// Anthropic's error shape for every request in Anthropic's dialect (./anthropic-client.ts: all of
// /v1/messages, and an Anthropic client's model listing): `{type:"error",
// error:{type, message}}` with Anthropic's error types. A middleware mounted before
// authentication, so that a missing key, a refused field, a full queue or a worker's failure all
// read as Anthropic's clients expect; the queen's own code is kept in the message so a person can
// still act on it.
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import type { QueenEnv } from "../../env.js";
import { rewriteErrorBodies } from "../../http/error-body-rewrite.js";
import { isAnthropicRequest } from "./anthropic-client.js";
import { anthropicErrorBody, messageWithCode } from "./error-shape.js";

const OpenAiError = z.object({ error: z.object({ message: z.string(), code: z.string().nullish() }) });

/**
 * Fields of the chat request a Messages request is served as (to-chat.ts), named in the worker's
 * messages, and the Messages fields they came from: the format as `output_config.format`, or as
 * the structured-outputs beta's `output_format` where the client wrote that.
 */
function chatFields(format: string): ReadonlyArray<[RegExp, string]> {
  return [
    [/\btools\[(\d+)\]\.function\.parameters\b/g, "tools[$1].input_schema"],
    [/\btools\[(\d+)\]\.function\./g, "tools[$1]."],
    [/\btool_choice\.function\.name\b/g, "tool_choice.name"],
    // tool_choice {"type": "any"} is served as the chat's "required".
    [/\btool_choice: "required"/g, 'tool_choice: {"type": "any"}'],
    [/\bresponse_format\.json_schema\.schema\b/g, `${format}.schema`],
    [/\bresponse_format\b/g, format],
  ];
}

const BetaFormat = z.object({ output_format: z.unknown().refine((value) => value != null), output_config: z.object({ format: z.null().optional() }).nullish() });

const inAnthropicShape = rewriteErrorBodies((body, status, c) => {
  const parsed = OpenAiError.safeParse(body);
  if (!parsed.success) return undefined;
  const { code, message } = parsed.data.error;
  // Read again only for an error that names the format: which of its two names the client used.
  const beta = /\bresponse_format\b/.test(message) && BetaFormat.safeParse(parsedBody(c.var.bodyText)).success;
  const named = chatFields(beta ? "output_format" : "output_config.format").reduce((text, [pattern, field]) => text.replace(pattern, field), message);
  return anthropicErrorBody(status, messageWithCode(named, code));
});

export const anthropicErrors = createMiddleware<QueenEnv>((c, next) => (isAnthropicRequest(c) ? inAnthropicShape(c, next) : next()));

function parsedBody(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
