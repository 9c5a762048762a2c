// The durable hive records in D1: every read and write of the `hives` table (registration and
// token rotation, revocation, connect times, what a hive said about its machine) goes through
// these functions, so the table has one owner and "no such hive" one answer.
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { RbeeError } from "../../shared/errors.js";
import { newId } from "../../shared/ids.js";
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";
import { type HiveRecord, hives } from "../db/schema.js";

/**
 * Registers a hive, or gives an existing one a new token hash. Rotating also lifts a revocation:
 * a revoked hive may connect again with its new token.
 */
export async function registerHive(db: D1Database, hive: { name: string; tokenHash: string }): Promise<void> {
  await drizzle(db)
    .insert(hives)
    .values({ id: newId("hive"), name: hive.name, tokenHash: hive.tokenHash, createdAt: new Date() })
    .onConflictDoUpdate({ target: hives.name, set: { tokenHash: hive.tokenHash, tokenRevokedAt: null } });
}

export async function listHives(db: D1Database): Promise<HiveRecord[]> {
  return drizzle(db).select().from(hives).orderBy(asc(hives.name));
}

export async function findHive(db: D1Database, name: string): Promise<HiveRecord | undefined> {
  const [record] = await drizzle(db).select().from(hives).where(eq(hives.name, name)).limit(1);
  return record;
}

/** The hive named `name`, or a 404 naming `param`, the request field the name came from. */
export async function requireHive(db: D1Database, name: string, param: "name" | "hive"): Promise<HiveRecord> {
  const record = await findHive(db, name);
  if (!record) throw new RbeeError(404, "hive_not_found", `No hive named '${name}'; register it with POST /v1/hives.`, { param });
  return record;
}

/**
 * Revokes a hive's token, keeping the first revocation time: when it was revoked, and whether it
 * already was. Only a token not yet revoked is updated, so of two revocations at once exactly one
 * revokes it and the other is told it already was.
 */
export async function revokeHiveToken(db: D1Database, hive: HiveRecord): Promise<{ tokenRevokedAt: Date; alreadyRevoked: boolean }> {
  const [revokedNow] = await drizzle(db)
    .update(hives)
    .set({ tokenRevokedAt: new Date() })
    .where(and(eq(hives.id, hive.id), isNull(hives.tokenRevokedAt)))
    .returning({ tokenRevokedAt: hives.tokenRevokedAt });
  if (revokedNow?.tokenRevokedAt) return { tokenRevokedAt: revokedNow.tokenRevokedAt, alreadyRevoked: false };
  // Revoked before, or by someone else meanwhile: the first revocation's time is the one kept.
  const current = await requireHive(db, hive.name, "name");
  return { tokenRevokedAt: current.tokenRevokedAt ?? new Date(), alreadyRevoked: true };
}

/** Notes a hive's accepted connect: last seen now, and first seen now unless it was before. */
export async function markHiveConnected(db: D1Database, hive: HiveRecord, now: Date): Promise<void> {
  await drizzle(db)
    .update(hives)
    .set({ lastSeenAt: now, firstSeenAt: hive.firstSeenAt ?? now })
    .where(eq(hives.id, hive.id));
}

/**
 * What the hive says about its machine, kept for `GET /v1/hives`. Hellos and status refreshes
 * (one a minute) are rare, so these D1 writes are off every hot path.
 */
export async function recordHiveCapabilities(db: D1Database, name: string, capabilities: Record<string, unknown>): Promise<void> {
  await drizzle(db).update(hives).set({ capabilities, lastSeenAt: new Date() }).where(eq(hives.name, name));
}

/** A status refresh only brings new devices: one write that replaces them and keeps the hello's machine facts. */
export async function recordHiveDevices(db: D1Database, name: string, devices: HiveDevices): Promise<void> {
  await drizzle(db)
    .update(hives)
    .set({ capabilities: sql`json_set(coalesce(${hives.capabilities}, '{}'), '$.devices', json(${JSON.stringify(devices)}))`, lastSeenAt: new Date() })
    .where(eq(hives.name, name));
}
