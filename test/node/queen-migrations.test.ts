// The local queen's D1 migrations (scripts/local-cloud/queen-migrations.ts), in a real workerd:
// each is applied once, in order, a later checkout's new ones on the next start; and a database
// that a newer checkout migrated is refused, naming what this one lacks, with nothing applied.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyD1Migrations, migratorWorker, NewerDatabase } from "../../scripts/local-cloud/queen-migrations.js";

const MIGRATIONS = {
  "0000_first.sql": "CREATE TABLE first (x INTEGER);",
  "0001_second.sql": "CREATE TABLE second (x INTEGER);",
  "0002_third.sql": "CREATE TABLE third (x INTEGER);",
};

describe("the local queen's D1 migrations", () => {
  let root = "";
  let miniflare: Miniflare;
  let secret = "";

  /** A migrations folder holding the first `count` of MIGRATIONS, as a checkout of that age does. */
  const checkout = async (count: number) => {
    const dir = await mkdtemp(join(root, "migrations-"));
    for (const [name, sql] of Object.entries(MIGRATIONS).slice(0, count)) await writeFile(join(dir, name), sql);
    return [{ binding: "DB", dir }];
  };
  const tables = async () => {
    const db = await miniflare.getD1Database("DB", "app");
    const rows = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('first', 'second', 'third') ORDER BY name").all<{ name: string }>();
    return rows.results.map((row) => row.name);
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "rbee-migrations-"));
    const d1Databases = { DB: "local-db" };
    const migrator = migratorWorker(d1Databases, "2026-05-01");
    secret = migrator.secret;
    miniflare = new Miniflare({
      workers: [{ name: "app", modules: true, script: "export default { fetch: () => new Response('app') };", d1Databases }, migrator.worker],
    });
    await miniflare.ready;
  });

  afterAll(async () => {
    await miniflare?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it("applies each migration once, and a later checkout's new ones on its start", async () => {
    expect(await applyD1Migrations(miniflare, secret, await checkout(2))).toEqual(["0000_first.sql", "0001_second.sql"]);
    expect(await applyD1Migrations(miniflare, secret, await checkout(2))).toEqual([]);
    expect(await applyD1Migrations(miniflare, secret, await checkout(3))).toEqual(["0002_third.sql"]);
    expect(await tables()).toEqual(["first", "second", "third"]);
  });

  it("refuses a database a newer checkout migrated, naming the migrations this one lacks", async () => {
    const refused = await applyD1Migrations(miniflare, secret, await checkout(1)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NewerDatabase);
    expect(refused).toMatchObject({ code: "database_newer", migrations: ["0001_second.sql", "0002_third.sql"] });
    expect((refused as Error).message).toContain("migrated by a newer rbee (0001_second.sql, 0002_third.sql, which this checkout does not have)");
  });
});
