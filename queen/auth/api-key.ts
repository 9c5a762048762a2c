// Hono middleware for client-facing /v1 routes: authenticates `Authorization: Bearer <key>`, or
// `x-api-key: <key>` as Anthropic's clients send it (the RBEE_ADMIN_KEY secret, or a key created
// through /v1/keys), checks the key has the
// scope the route needs, and leaves the key in `c.var.apiKey` for usage counting. Every request
// also counts against its client address and its key (limits/client-limits.ts): the address is
// checked alongside authentication, so failed attempts count too and a blocked address is
// refused before any D1 read; the key after it. Both checks together cost one round trip.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { isTooShortForAdminKey, MIN_ADMIN_KEY_LENGTH } from "../../shared/admin-key.js";
import { RbeeError } from "../../shared/errors.js";
import type { QueenConfig } from "../config.js";
import type { QueenEnv } from "../env.js";
import { checkLimits, refusedFromMemory } from "../limits/check-limits.js";
import { countRefusedInference } from "../observability/inference-outcome.js";
import { addressLimits, addressSubject, keyLimits, keySubject } from "../limits/client-limits.js";
import { type AuthenticatedKey, BOOTSTRAP_KEY_ID } from "./authenticated-key.js";
import { lookUpKey } from "./key-cache.js";
import { expiredKey, revokedKey } from "./key-standing.js";
import { touchLastUsed } from "./last-used.js";
import { scopeAllows, scopeForPath } from "./route-scope.js";
import { bearerToken, hashesMatch, sha256Hex } from "./secrets.js";

export const requireApiKey = createMiddleware<QueenEnv>(async (c, next) => {
  const arrivedAtMs = Date.now();
  const needed = scopeForPath(c.req.path);
  const spendsTokens = needed === "inference" && c.req.method === "POST";
  let key: AuthenticatedKey;
  try {
    key = await admittedKey(c, needed, spendsTokens);
  } catch (error) {
    // Every inference request refused here shows in the metrics: a revoked key still in use, keys
    // being guessed, a key without the scope, a rate limit.
    if (spendsTokens && error instanceof RbeeError) countRefusedInference(c, error.status, arrivedAtMs);
    throw error;
  }
  c.set("apiKey", key);
  await next();
});

/** The key the request presents, once it is known, within its limits and its address's, and has the scope `needed`; else why not. */
async function admittedKey(c: Context<QueenEnv>, needed: ReturnType<typeof scopeForPath>, spendsTokens: boolean): Promise<AuthenticatedKey> {
  const presented = bearerToken(c.req.header("authorization")) ?? nonEmpty(c.req.header("x-api-key"));
  if (presented === undefined) {
    const sent = c.req.header("authorization");
    if (sent !== undefined && sent.trim() !== "") {
      // A key was sent, but not as a bearer token: say what was wrong with it, not that it is missing.
      throw new RbeeError(401, "malformed_authorization", `The Authorization header is not \`Bearer <key>\`: ${describeAuthorization(sent)}. Send the key as \`Authorization: Bearer <key>\` (or \`x-api-key: <key>\`).`);
    }
    throw new RbeeError(401, "missing_api_key", "No API key: send it as `Authorization: Bearer <key>` (or `x-api-key: <key>`).");
  }
  const { config } = c.var;
  const address = addressSubject(c.req.raw.headers);
  const perAddress = addressLimits(config);
  const blocked = refusedFromMemory(address, perAddress);
  if (blocked) throw blocked;
  const addressCheck = checkLimits(c.env, address, perAddress);
  const key = await authenticate(c.env, c.executionCtx, presented, config).catch(async (error: unknown) => {
    // A client failing to authenticate and over its address's limit is told to slow down.
    throw (await addressCheck) ?? error;
  });
  // Token limits guard the requests that spend tokens: a key whose tokens are spent still lists models.
  const ownLimits = keyLimits(config, key.limits, spendsTokens);
  // A Prometheus scrape is not held to the request limits: it would go blind just when the queen
  // is busiest, as the clients that share its key or its address spend them.
  const scrape = needed === "metrics";
  const [addressRefusal, keyRefusal] = await Promise.all([addressCheck, scrape ? undefined : checkLimits(c.env, keySubject(key.id), ownLimits)]);
  const refusal = scrape ? undefined : (addressRefusal ?? keyRefusal);
  if (refusal) throw refusal;
  if (!scopeAllows(key.scopes, needed)) {
    throw new RbeeError(
      403,
      "insufficient_scope",
      `This API key has scopes [${key.scopes.join(", ")}]; ${c.req.method} ${c.req.path} needs the '${needed}' scope.`,
    );
  }
  return key;
}

function nonEmpty(header: string | undefined): string | undefined {
  const value = header?.trim();
  return value ? value : undefined;
}

async function authenticate(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  presented: string,
  config: QueenConfig,
): Promise<AuthenticatedKey> {
  const configured = config.adminKey;
  // The presented key is hashed once: for the constant-time comparison with the admin key and
  // for the lookup. Hashing per request is ~µs.
  const presentedHash = await sha256Hex(presented);
  if (configured && hashesMatch(presentedHash, await sha256Hex(configured))) {
    if (isTooShortForAdminKey(configured)) throw weakAdminKey();
    return { id: BOOTSTRAP_KEY_ID, scopes: ["inference", "admin"] };
  }
  // Looked up by its hash: timing can at most reveal a prefix of a SHA-256, which an attacker
  // cannot steer towards a real key, so an indexed equality lookup is safe here.
  const stored = await lookUpKey(env.DB, presentedHash, config.unknownKeyCacheMs);
  if (!stored) {
    if (!configured) {
      throw new RbeeError(503, "queen_not_configured", "The queen has no admin key: set the RBEE_ADMIN_KEY secret (wrangler secret put RBEE_ADMIN_KEY).");
    }
    throw new RbeeError(401, "invalid_api_key", "Incorrect API key provided.");
  }
  const nowMs = Date.now();
  if (stored.revokedAtMs !== null) throw revokedKey(stored.id);
  if (stored.expiresAtMs !== null && stored.expiresAtMs <= nowMs) throw expiredKey(stored.id, stored.expiresAtMs);
  touchLastUsed(env.DB, ctx, stored.id, nowMs);
  return { id: stored.id, scopes: stored.scopes, limits: stored.limits, models: stored.models, secretHash: presentedHash };
}

/**
 * The answer to a request that presents an RBEE_ADMIN_KEY shorter than MIN_ADMIN_KEY_LENGTH.
 * Refused rather than taken with a warning: a Worker's log is read once something has gone wrong,
 * and a short key guessed online hands over every route and every hive. Only the bootstrap key is
 * refused, and only to whoever presents it (anyone else gets the usual invalid_api_key, learning
 * nothing of it): keys made through /v1/keys, which are long and random, keep working and hives
 * keep connecting, so a deployment whose secret is short loses no service, only that one key
 * until `wrangler secret put` replaces it. (npm start refuses a short key before it starts.)
 */
function weakAdminKey(): RbeeError {
  return new RbeeError(
    503,
    "weak_admin_key",
    `The queen's admin key, the RBEE_ADMIN_KEY secret, is shorter than ${MIN_ADMIN_KEY_LENGTH} characters, so the queen refuses it. ` +
      "Replace it with a long random one: openssl rand -hex 32 | npx wrangler secret put RBEE_ADMIN_KEY. Keys made with POST /v1/keys still work.",
  );
}

/** What is wrong with an Authorization header that holds no bearer token, without quoting the secret in it. */
function describeAuthorization(header: string): string {
  const words = header.trim().split(/\s+/);
  if (/^Bearer$/i.test(words[0] ?? "")) return words.length === 1 ? "it has no key after 'Bearer'" : "it holds more than one key (was the header sent twice?)";
  const scheme = words[0] ?? "";
  // Only a word that reads as a scheme (Basic, Token) is quoted: anything else may be the secret.
  if (words.length > 1 && /^[A-Za-z-]{1,20}$/.test(scheme)) return `its scheme is '${scheme}', not 'Bearer'`;
  return "it does not start with 'Bearer '";
}
