// Applies the committed D1 migrations to the local queen's database inside its own Miniflare,
// exactly as `wrangler d1 migrations apply <db> --local` would (same SQL splitting, one batch per
// migration with its row in the migrations table, the same table), so either tool sees the other's
// work. wrangler's command starts a fresh workerd for every statement group, which took 3–27 s of
// every local queen start on a busy 2-core machine; this takes milliseconds. Used by queen.ts.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { unstable_splitSqlQuery } from "wrangler";

/** wrangler's DEFAULT_MIGRATION_TABLE and its schema (src/d1/migrations/helpers.ts). */
const DEFAULT_TABLE = "d1_migrations";

export interface D1MigrationSource {
  /** The D1 binding, e.g. `DB`. */
  binding: string;
  /** The folder of `<number>_<name>.sql` files (wrangler.toml `migrations_dir`). */
  dir: string;
  /** wrangler.toml `migrations_table`, default `d1_migrations`. */
  table?: string;
}

/** Applies the migrations not yet applied, in file-name order, and says which it applied. */
export async function applyD1Migrations(miniflare: Miniflare, source: D1MigrationSource): Promise<string[]> {
  const db = await miniflare.getD1Database(source.binding);
  const table = source.table ?? DEFAULT_TABLE;
  await db
    .prepare(`CREATE TABLE IF NOT EXISTS ${table}(\n\t\tid         INTEGER PRIMARY KEY AUTOINCREMENT,\n\t\tname       TEXT UNIQUE,\n\t\tapplied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL\n);`)
    .run();
  const applied = new Set((await db.prepare(`SELECT name FROM ${table} ORDER BY id`).all<{ name: string }>()).results.map((row) => row.name));
  const pending = (await readdir(source.dir)).filter((name) => name.endsWith(".sql") && !applied.has(name)).sort();
  for (const name of pending) {
    const sql = `${await readFile(join(source.dir, name), "utf8")}\nINSERT INTO ${table} (name) values ('${name}');\n`;
    // One batch is one transaction: a migration that fails leaves no half of itself behind.
    await db.batch(unstable_splitSqlQuery(sql).map((statement) => db.prepare(statement)));
  }
  return pending;
}
