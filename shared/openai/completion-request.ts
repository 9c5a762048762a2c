// The OpenAI legacy completions request (`POST /v1/completions`: a prompt in, its continuation
// out) as rbee accepts it; the queen validates it before routing and the worker before generating.
// Fields of OpenAI's API are honoured or refused (400) by name; others are stripped, and named by
// the queen in a header (ignored-fields.ts).
import { z } from "zod";
import { CacheScopeField } from "./cache-scope.js";
import { KeepAliveField } from "./keep-alive.js";
import { checkStreamOptions, LogitBiasField, ResponseFormat, SamplingFields, StreamOptions } from "./chat-request.js";

const CompletionFields = z.object({
  model: z.string().min(1).max(256),
  // OpenAI also takes several prompts or token ids; one prompt per request is what a slot serves.
  prompt: z.union([z.string(), z.array(z.string()).length(1, "must hold exactly one prompt string")]),
  stream: z.boolean().nullish(),
  stream_options: StreamOptions.nullish(),
  ...SamplingFields,
  /** Not in OpenAI's legacy API; llama.cpp's server accepts it there too. */
  response_format: ResponseFormat.nullish(),
  n: z.literal(1, { error: "only n=1 is supported" }).nullish(),
  best_of: z.literal(1, { error: "only best_of=1 is supported" }).nullish(),
  echo: z.literal(false, { error: "echo is not supported" }).nullish(),
  logprobs: z.null({ error: "logprobs are not supported" }).optional(),
  /** The text after the insertion point: the model fills in between prompt and suffix (models with fill-in-the-middle tokens). */
  suffix: z.string().nullish(),
  /** How long the model stays loaded after this request (Ollama's keep_alive); the queen strips it. */
  ...KeepAliveField,
  ...CacheScopeField,
  user: z.string().nullish(),
  ...LogitBiasField,
  /**
   * rbee's own: the prompt's last N characters (UTF-16 code units) are an answer generated so far,
   * which the queen sends when another worker continues a stream after a failover. They are read
   * as plain text, as the model wrote them: text the model wrote that spells a special token
   * (`<s>` in HTML, say) must not become that token. A worker of an older rbee ignores the field
   * and reads the whole prompt as before.
   */
  rbee_answer_chars: z.number().int().min(0).optional(),
});

export const CompletionRequest = CompletionFields.superRefine((request, ctx) => {
  checkStreamOptions(request, ctx);
  const prompt = promptText(request);
  const cut = prompt.length - (request.rbee_answer_chars ?? 0);
  if (cut < 0) {
    ctx.addIssue({ code: "custom", path: ["rbee_answer_chars"], message: `must not exceed the prompt's ${prompt.length} characters` });
  } else if (splitsSurrogatePair(prompt, cut)) {
    ctx.addIssue({ code: "custom", path: ["rbee_answer_chars"], message: `must not cut a character of the prompt in two (at UTF-16 index ${cut})` });
  }
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/** The one prompt of a request, whichever form it came in. */
export function promptText(request: Pick<CompletionRequest, "prompt">): string {
  return typeof request.prompt === "string" ? request.prompt : (request.prompt[0] ?? "");
}

/** Whether cutting `text` at `index` parts a surrogate pair (one character outside the BMP, an emoji say). */
function splitsSurrogatePair(text: string, index: number): boolean {
  const before = text.charCodeAt(index - 1);
  const after = text.charCodeAt(index);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}
