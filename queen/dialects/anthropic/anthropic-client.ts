// Which requests speak Anthropic's dialect: every one under /v1/messages, and any other that an
// Anthropic client sends (its SDK lists models at the same /v1/models an OpenAI client does, and
// sends `anthropic-version` with every request, which no OpenAI client does). Those get
// Anthropic's shapes: its model list, its error bodies, and the request id in `request-id`.
import type { Context } from "hono";

/** The header every Anthropic client sends, and no OpenAI one. */
export const ANTHROPIC_VERSION_HEADER = "anthropic-version";

export function isAnthropicRequest(c: Context): boolean {
  return c.req.path === "/v1/messages" || c.req.path.startsWith("/v1/messages/") || c.req.header(ANTHROPIC_VERSION_HEADER) !== undefined;
}
