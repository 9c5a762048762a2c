// POST /v1/hives: registers a hive (or issues it a new token) and shows the token once; only
// its hash is kept. The hive then connects with `rbee-hive connect --name … --token …`.
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { z } from "zod";
import { newId } from "../../shared/ids.js";
import { HiveName } from "../../shared/protocol/hive-name.js";
import { parseRequest } from "../../shared/validation.js";
import { newSecret, sha256Hex } from "../auth/secrets.js";
import { hives } from "../db/schema.js";
import type { QueenEnv } from "../env.js";
import { readJson } from "../http/read-json.js";

const CreateHive = z.object({ name: HiveName });

export const hiveRoutes = new Hono<QueenEnv>().post("/", async (c) => {
  const { name } = parseRequest(CreateHive, await readJson(c));
  const token = newSecret("rbee_ht_");
  const tokenHash = await sha256Hex(token);
  const now = new Date();
  await drizzle(c.env.DB)
    .insert(hives)
    .values({ id: newId("hive"), name, tokenHash, createdAt: now })
    .onConflictDoUpdate({ target: hives.name, set: { tokenHash } });
  return c.json({ name, token }, 201);
});
