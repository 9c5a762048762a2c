// GET /v1/hive/connect: a hive opens its one WebSocket here, authenticated by its name and
// token; the socket is handed to that hive's HiveSession Durable Object.
import { Hono } from "hono";
import { RbeeError } from "../../shared/errors.js";
import { HIVE_NAME_PARAM } from "../../shared/protocol/hive-connect.js";
import { HiveName } from "../../shared/protocol/hive-name.js";
import { bearerToken, secretMatchesHash } from "../auth/secrets.js";
import type { QueenEnv } from "../env.js";
import { HIVE_NAME_HEADER, HIVE_TOKEN_HASH_HEADER } from "../hive-session/hive-session.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import { findHive, markHiveConnected } from "../hives/hive-records.js";

export const hiveConnectRoutes = new Hono<QueenEnv>().get("/", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new RbeeError(426, "upgrade_required", "This endpoint only accepts WebSocket upgrades.");
  }
  const name = HiveName.safeParse(c.req.query(HIVE_NAME_PARAM));
  if (!name.success) {
    throw new RbeeError(400, "invalid_hive_name", "Query parameter 'name' must be a hive name (letters, digits, . _ -, up to 64).", {
      param: "name",
    });
  }
  const token = bearerToken(c.req.header("authorization"));
  const hive = await findHive(c.env.DB, name.data);
  // The same answer for an unknown hive and a wrong token: don't tell a prober which hives exist.
  if (!hive || token === undefined || !(await secretMatchesHash(token, hive.tokenHash))) {
    throw new RbeeError(401, "invalid_hive_token", `Hive '${name.data}' is unknown or its token is wrong.`);
  }
  // Only after the token matched: a prober learns nothing about revocations.
  if (hive.tokenRevokedAt) {
    throw new RbeeError(
      401,
      "hive_token_revoked",
      `Hive '${hive.name}' had its token revoked at ${hive.tokenRevokedAt.toISOString()}; an admin can issue a new one with POST /v1/hives.`,
    );
  }
  await markHiveConnected(c.env.DB, hive, new Date());
  const upgrade = new Request(c.req.raw.url, { headers: c.req.raw.headers });
  upgrade.headers.set(HIVE_NAME_HEADER, hive.name);
  upgrade.headers.set(HIVE_TOKEN_HASH_HEADER, hive.tokenHash);
  return hiveSessionStub(c.env, hive.name).fetch(upgrade);
});
