// /v1/hives (admin): register a hive or issue it a new token (shown once; only its hash is
// kept), list hives with whether they are connected now and the models each has served, and
// revoke a hive's token. The hive
// connects with `rbee-hive connect --name … --token …`.
import { Hono } from "hono";
import { z } from "zod";
import { HiveDevices, publicDevices } from "../../shared/protocol/hive-devices.js";
import { HelloFrame } from "../../shared/protocol/hive-frames.js";
import { HiveName } from "../../shared/protocol/hive-name.js";
import { parseRequest } from "../../shared/validation.js";
import { newSecret, sha256Hex } from "../auth/secrets.js";
import type { HiveRecord } from "../db/schema.js";
import type { QueenEnv } from "../env.js";
import { hiveSessionStub } from "../hive-session/stub.js";
import { listHiveModels } from "../hives/hive-models.js";
import { listHives, registerHive, requireHive, revokeHiveToken } from "../hives/hive-records.js";
import { parseParam } from "../http/parse-param.js";
import { readJson } from "../http/read-json.js";
import { registryStub } from "../registry/stub.js";

const CreateHive = z.object({ name: HiveName });

/** What a hive reported about itself, read back from D1 (rows from before protocol 3 lack devices). */
const StoredCapabilities = z.object({ ...HelloFrame.shape.hive.shape, devices: HiveDevices.optional() });

export function capabilitiesView(capabilities: unknown) {
  const parsed = StoredCapabilities.safeParse(capabilities);
  if (!parsed.success) return { machine: null, devices: null };
  const { version, os, arch, cpuCores, memoryBytes, devices } = parsed.data;
  return {
    machine: { hive_version: version, os, arch, cpu_cores: cpuCores, memory_bytes: memoryBytes },
    devices: devices ? publicDevices(devices) : null,
  };
}

function hiveView(record: HiveRecord, online: boolean) {
  return {
    name: record.name,
    object: "hive",
    online,
    ...capabilitiesView(record.capabilities),
    created_at: record.createdAt.toISOString(),
    first_seen_at: record.firstSeenAt?.toISOString() ?? null,
    last_seen_at: record.lastSeenAt?.toISOString() ?? null,
    token_revoked_at: record.tokenRevokedAt?.toISOString() ?? null,
  };
}

export const hiveRoutes = new Hono<QueenEnv>()
  .post("/", async (c) => {
    const { name } = parseRequest(CreateHive, await readJson(c));
    const token = newSecret("rbee_ht_");
    const tokenHash = await sha256Hex(token);
    // Registering an existing name rotates its token: the old one stops working.
    await registerHive(c.env.DB, { name, tokenHash });
    // A connection made with the old token ends: the hive must come back with the new one.
    await hiveSessionStub(c.env, name).disconnect("hive token rotated", tokenHash);
    return c.json({ name, token }, 201);
  })
  .get("/", async (c) => {
    const rows = await listHives(c.env.DB);
    // Whether a hive is connected is live state its HiveSession holds, not something D1 knows.
    const online = await Promise.all(rows.map((row) => hiveSessionStub(c.env, row.name).isOnline()));
    return c.json({ object: "list", data: rows.map((row, index) => hiveView(row, online[index] ?? false)) });
  })
  .get("/:name/models", async (c) => {
    const name = parseParam("name", HiveName, c.req.param("name"));
    await requireHive(c.env.DB, name, "name");
    const rows = await listHiveModels(c.env.DB, name);
    const serving = new Set(
      (await registryStub(c.env).listWorkers()).filter((worker) => worker.hive === name).map((worker) => worker.model),
    );
    return c.json({
      object: "list",
      data: rows.map((row) => ({
        id: row.model,
        serving: serving.has(row.model),
        first_seen_at: row.firstSeenAt.toISOString(),
        last_seen_at: row.lastSeenAt.toISOString(),
      })),
    });
  })
  .delete("/:name/token", async (c) => {
    const name = parseParam("name", HiveName, c.req.param("name"));
    const existing = await requireHive(c.env.DB, name, "name");
    const { tokenRevokedAt, alreadyRevoked } = await revokeHiveToken(c.env.DB, existing);
    // A revoked hive that is connected right now is cut off now, not at its next reconnect.
    await hiveSessionStub(c.env, name).disconnect("hive token revoked");
    const online = await hiveSessionStub(c.env, name).isOnline();
    // 200 either way, as for keys (routes/keys.ts): already_revoked tells a second call from the first.
    return c.json({ ...hiveView({ ...existing, tokenRevokedAt }, online), already_revoked: alreadyRevoked });
  });
