// Which requests speak Anthropic's dialect: every one under /v1/messages, and a model listing that
// an Anthropic client asks for (its SDK lists models at the same /v1/models an OpenAI client does,
// and sends `anthropic-version`, which no OpenAI client does). Those get Anthropic's shapes: its
// model list, its error bodies, and the request id in `request-id`. The OpenAI routes answer in
// OpenAI's shapes whatever headers come (a gateway may pass an Anthropic client's on).
import type { Context } from "hono";

/** The header every Anthropic client sends, and no OpenAI one. */
export const ANTHROPIC_VERSION_HEADER = "anthropic-version";

export function isAnthropicRequest(c: Context): boolean {
  const { path } = c.req;
  if (path === "/v1/messages" || path.startsWith("/v1/messages/")) return true;
  return (path === "/v1/models" || path.startsWith("/v1/models/")) && c.req.header(ANTHROPIC_VERSION_HEADER) !== undefined;
}
