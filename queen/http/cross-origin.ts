// Lets browser pages of other origins call the queen (CORS), as OpenAI's own API does: web apps
// that call their model provider from the page itself (Open WebUI's direct connections, the
// OpenAI and Anthropic SDKs in a browser) need the preflight answered and the answers marked
// readable. API keys travel in the Authorization (or x-api-key) header, never in cookies, so a
// page of another origin can do nothing with the queen that its key would not let it do from
// anywhere else. CORS_ORIGINS narrows this to a list of origins, or turns it off (config.ts).
// Hono's cors middleware does the work; this decides which requests it sees.
import type { Context, MiddlewareHandler, Next } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { SHOULD_RETRY_HEADER } from "../../shared/errors.js";
import { HIVE_CONNECT_PATH } from "../../shared/protocol/hive-connect.js";
import type { QueenEnv } from "../env.js";

/** How long a browser may reuse a preflight's answer, in seconds (Chrome caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 86_400;
const ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/** One cors middleware per configured list: the config, and so the list, lives as long as its isolate. */
const corsByOrigins = new WeakMap<readonly string[], MiddlewareHandler>();
// The request headers a preflight asks for are allowed as asked (Hono echoes them): the SDKs send
// their own (x-stainless-*, anthropic-version), and none of them lets a page past the key check.
const anyOrigin = cors({ origin: "*", allowMethods: ALLOWED_METHODS, maxAge: PREFLIGHT_MAX_AGE_SECONDS });

function corsFor(origins: readonly string[]): MiddlewareHandler {
  let middleware = corsByOrigins.get(origins);
  if (middleware === undefined) {
    middleware = cors({ origin: [...origins], allowMethods: ALLOWED_METHODS, maxAge: PREFLIGHT_MAX_AGE_SECONDS });
    corsByOrigins.set(origins, middleware);
  }
  return middleware;
}

export const crossOrigin = createMiddleware<QueenEnv>((c, next) => {
  // Only browsers send Origin: hives, SDKs on servers and curl pass untouched. A hive's WebSocket
  // upgrade is never a page's, and rebuilding its 101 to add a header would lose the socket.
  if (c.req.header("origin") === undefined || c.req.path === HIVE_CONNECT_PATH) return next();
  const allowed = c.var.config.corsOrigins;
  if (allowed !== "*" && allowed.length === 0) return next();
  return (allowed === "*" ? anyOrigin : corsFor(allowed))(c, () => answeredExposing(c, next));
});

/**
 * Headers of the answers of many routes that a page reads only when the answer names them: the
 * SDKs time their retry of a 429 or a 503 by Retry-After (and make none after x-should-retry:
 * false), and a 405 names the methods its path takes in Allow. The queen's other headers are named
 * where they are set.
 */
const EXPOSED_WHEN_SET = ["retry-after", SHOULD_RETRY_HEADER, "allow"];

async function answeredExposing(c: Context<QueenEnv>, next: Next): Promise<void> {
  await next();
  const present = EXPOSED_WHEN_SET.filter((name) => c.res.headers.has(name));
  if (present.length === 0) return;
  const exposed = c.res.headers.get("access-control-expose-headers");
  c.header("access-control-expose-headers", [...(exposed ? [exposed] : []), ...present].join(", "));
}
