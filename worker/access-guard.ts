// Who may use a worker's API: its hive, and nobody else on the machine. A loopback port is open
// to every local user and, through DNS rebinding, to any web page a local browser shows, and a
// worker runs a GPU unmetered. So every request must name the worker's own loopback address in
// `Host` (a rebinding page's Host is its own domain) and carry the secret the hive gave the worker
// (`Authorization: Bearer`); model routes also require a JSON content type, which a browser cannot
// send across origins without a preflight the worker never answers. Used by ./http-api.ts.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { RbeeError } from "../shared/errors.js";

/** Host names that reach this worker without leaving the machine; its port must follow. */
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"] as const;

/**
 * Refuses, in this order: a `Host` that is not this worker's loopback address (403
 * `forbidden_host`), then a missing or wrong bearer secret (401 `unauthorized`). Every route is
 * guarded, `/health` included: the hive never calls it, and nobody else needs to learn what runs.
 */
export function guardWorkerAccess(options: { secret: string; port: number }): MiddlewareHandler {
  const allowedHosts = new Set(LOOPBACK_NAMES.map((name) => `${name}:${options.port}`));
  const expected = digest(options.secret);
  return async (c, next) => {
    const host = c.req.header("host")?.toLowerCase();
    if (host === undefined || !allowedHosts.has(host)) {
      throw new RbeeError(
        403,
        "forbidden_host",
        `Host ${host === undefined ? "is missing" : JSON.stringify(host)}; this worker serves only its hive, at ${[...allowedHosts].join(", ")}`,
      );
    }
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    // Digests have one length, so timingSafeEqual compares them without leaking where they differ.
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      const error = new RbeeError(401, "unauthorized", "Authorization: Bearer <secret> is missing or wrong; only this worker's hive may call it").toResponse();
      error.headers.set("www-authenticate", 'Bearer realm="rbee-worker"');
      return error;
    }
    await next();
  };
}

/** Refuses a body that does not say it is JSON with 415 `unsupported_media_type`. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("content-type");
  const mediaType = type?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new RbeeError(415, "unsupported_media_type", `Content-Type must be application/json, got ${type === undefined ? "none" : JSON.stringify(type)}`);
  }
  await next();
};

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
