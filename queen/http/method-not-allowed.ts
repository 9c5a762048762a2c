// The queen's answer to a request no route takes (app.ts's notFound handler): 405 Method Not
// Allowed with an `Allow` header when routes of other methods take its path, as RFC 9110 (15.5.6)
// asks, so a client that GETs /v1/chat/completions learns it exists and wants POST; the usual 404
// otherwise. Both leave in OpenAI's error shape (Anthropic's under /v1/messages, by its middleware).
// An OPTIONS request that is not a browser's preflight is told the same in a 204.
import type { Context, NotFoundHandler } from "hono";
import { METHOD_NAME_ALL } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";
import type { RouterRoute } from "hono/types";
import { openAiErrorBody } from "../../shared/errors.js";

/** The order methods are listed in `Allow`. */
const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/**
 * The notFound handler for `app`, whose routes it reads at the first unmatched request (every
 * route is registered by then). Middleware (`app.use`, method ALL) are not routes: `/v1/*` has
 * middleware, yet no route takes /v1/nope.
 */
export function notFoundOrMethodNotAllowed(app: { routes: readonly RouterRoute[] }): NotFoundHandler {
  let router: TrieRouter<string> | undefined;
  return (c: Context) => {
    router ??= routeMethods(app.routes);
    const { method, path } = c.req;
    const allowed = allowedMethods(router, path);
    // A route of this very method that answered nothing (it called next()) has no other method to offer.
    if (allowed.length === 0 || allowed.includes(method)) {
      return c.json(openAiErrorBody(404, "not_found", `No route for ${method} ${path}.`), 404);
    }
    // OPTIONS asks what a path takes (RFC 9110, 9.3.7); a browser's preflight is answered before this (cross-origin.ts).
    if (method === "OPTIONS") {
      c.header("allow", [...allowed, "OPTIONS"].join(", "));
      return c.body(null, 204);
    }
    c.header("allow", allowed.join(", "));
    return c.json(openAiErrorBody(405, "method_not_allowed", `${method} is not allowed on ${path}; it takes ${allowed.join(", ")}.`), 405);
  };
}

/** A router whose match for any method and path yields the method of every route taking the path. */
function routeMethods(routes: readonly RouterRoute[]): TrieRouter<string> {
  const router = new TrieRouter<string>();
  for (const route of routes) {
    if (route.method !== METHOD_NAME_ALL) router.add(METHOD_NAME_ALL, route.path, route.method);
  }
  return router;
}

/** The methods routes take `path` with, HEAD beside GET (Hono answers HEAD with the GET route). */
function allowedMethods(router: TrieRouter<string>, path: string): string[] {
  const [matched] = router.match(METHOD_NAME_ALL, path);
  const methods = new Set(matched.map(([method]) => method));
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort((a, b) => rank(a) - rank(b));
}

function rank(method: string): number {
  const index = METHOD_ORDER.indexOf(method);
  return index === -1 ? METHOD_ORDER.length : index;
}
