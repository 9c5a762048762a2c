// Gives every request to the queen an id: the client's own `X-Request-Id` when it sends a valid
// one, else a new `req_…`. Every answer carries it back in `X-Request-Id` (and an answer to an
// Anthropic client in `request-id` too, where Anthropic's SDK reads it); the inference log line
// (inference-outcome.ts) and the queen's other log lines about the request name it.
//
// A /v1 request with an invalid one is refused with 400 naming the header, but only by
// refuseInvalidRequestId, which app.ts mounts inside the CORS and Anthropic-error middleware: the
// refusal must reach a browser page as a readable answer (not a "connection error"), and a
// Messages client in Anthropic's shape. Until then the request carries an id of the queen's.
//
// The relay id is what the hive and the worker know the request by: the hive frames' requestId
// (shared/protocol/hive-frames.ts), which the hive passes to the worker as `X-Request-Id`. It must
// be unique among the relays in flight, so it is the request id only when the queen made that
// id; a client's own id (which two clients could share) gets a fresh relay id, and the log line
// names both. Carrying a client's id itself to the hive would need a frame field (PROTOCOL 6).
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { RbeeError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from "../../shared/openai/inference-headers.js";
import { isAnthropicRequest } from "../dialects/anthropic/anthropic-client.js";
import type { QueenEnv } from "../env.js";

export const requestId = createMiddleware<QueenEnv>(async (c, next) => {
  const { id, relayId } = requestIdsOf(c.req.header(REQUEST_ID_HEADER));
  c.set("requestId", id);
  c.set("relayId", relayId);
  await next();
  echoRequestId(c, id);
});

/** The 400 for a request whose X-Request-Id is not safe to log or to pass on. */
export const refuseInvalidRequestId = createMiddleware<QueenEnv>(async (c, next) => {
  const sent = c.req.header(REQUEST_ID_HEADER);
  if (sent !== undefined && !REQUEST_ID_PATTERN.test(sent)) {
    throw new RbeeError(
      400,
      "invalid_request_id",
      `Header '${REQUEST_ID_HEADER}' must be 1 to 128 letters, digits, '.', '_', ':' or '-' (a UUID works); leave it out and the queen makes one.`,
      { param: REQUEST_ID_HEADER },
    );
  }
  await next();
});

function requestIdsOf(sent: string | undefined): { id: string; relayId: string } {
  if (sent === undefined || !REQUEST_ID_PATTERN.test(sent)) {
    const made = newId("req");
    return { id: made, relayId: made };
  }
  return { id: sent, relayId: newId("req") };
}

/** Where Anthropic's API and its SDK (`_request_id`, error reports) carry the request id. */
const ANTHROPIC_REQUEST_ID_HEADER = "request-id";

function echoRequestId(c: Context<QueenEnv>, id: string): void {
  // A WebSocket upgrade's 101 cannot be rebuilt without losing its socket; hive sockets log their own ids.
  if (c.res.webSocket) return;
  c.res = new Response(c.res.body, c.res);
  c.res.headers.set(REQUEST_ID_HEADER, id);
  const named = [REQUEST_ID_HEADER];
  if (isAnthropicRequest(c)) {
    c.res.headers.set(ANTHROPIC_REQUEST_ID_HEADER, id);
    named.push(ANTHROPIC_REQUEST_ID_HEADER);
  }
  const exposed = c.res.headers.get("access-control-expose-headers");
  c.res.headers.set("access-control-expose-headers", [...(exposed ? [exposed] : []), ...named].join(", "));
}
