// Applies the committed D1 migrations to the local queen's database inside its own Miniflare,
// exactly as `wrangler d1 migrations apply <db> --local` would (same SQL splitting, one batch per
// migration with its row in the migrations table, the same table), so either tool sees the other's
// work. wrangler's command starts a fresh workerd for every statement group, which took 3–27 s of
// every local queen start on a busy 2-core machine; this takes milliseconds. Used by queen.ts.
//
// The SQL runs in a small second Worker beside the queen (`migratorWorker`), with the queen's D1
// bindings, reached by an ordinary asynchronous request. Not through Miniflare's D1 proxy: its
// calls block this process's event loop (Atomics.wait) until workerd answers, and a workerd busy
// logging (a thousand hives reconnecting to a restarted queen) blocks on the full pipe this
// process would be draining: neither ever moved again. The migrator answers only a request with
// the secret made for this start, so nothing else reaching the queen's port can run SQL through it.
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Miniflare, WorkerOptions } from "miniflare";
import { unstable_splitSqlQuery } from "wrangler";
import { StartRefused } from "./start-refused.js";

/** The migrator Worker's name: Miniflare routes a request to it by `MF-Route-Override`. */
const MIGRATOR_WORKER = "rbee-local-migrator";
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

/** What the migrator is asked: per database, every migration with its statements, in order. */
interface MigrationPlan {
  binding: string;
  table: string;
  migrations: Array<{ name: string; statements: string[] }>;
}

/**
 * Runs in workerd: creates the migrations table, then applies each migration it has no row for,
 * one batch (one transaction) each. A database that holds a migration this checkout does not have
 * was migrated by a newer rbee: nothing is applied, and 409 names those migrations.
 */
const MIGRATOR_SCRIPT = `
export default {
  async fetch(request, env) {
    if (request.headers.get("authorization") !== "Bearer " + env.MIGRATOR_SECRET) return new Response("not found", { status: 404 });
    const applied = [];
    try {
      for (const { binding, table, migrations } of await request.json()) {
        const db = env[binding];
        await db.prepare("CREATE TABLE IF NOT EXISTS " + table + "(\\n\\t\\tid         INTEGER PRIMARY KEY AUTOINCREMENT,\\n\\t\\tname       TEXT UNIQUE,\\n\\t\\tapplied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL\\n);").run();
        const done = new Set((await db.prepare("SELECT name FROM " + table + " ORDER BY id").all()).results.map((row) => row.name));
        const known = new Set(migrations.map((migration) => migration.name));
        const newer = [...done].filter((name) => !known.has(name));
        if (newer.length > 0) return Response.json({ applied, newer }, { status: 409 });
        for (const { name, statements } of migrations) {
          if (done.has(name)) continue;
          await db.batch(statements.map((statement) => db.prepare(statement)));
          applied.push(name);
        }
      }
    } catch (error) {
      return Response.json({ applied, error: String(error && error.message || error) }, { status: 500 });
    }
    return Response.json({ applied });
  },
};`;

/** The migrator: a Worker with the queen's D1 bindings that answers only `secret`. */
export function migratorWorker(d1Databases: WorkerOptions["d1Databases"], compatibilityDate: string | undefined): { worker: WorkerOptions; secret: string } {
  const secret = randomBytes(32).toString("hex");
  const worker: WorkerOptions = {
    name: MIGRATOR_WORKER,
    modules: true,
    script: MIGRATOR_SCRIPT,
    ...(compatibilityDate === undefined ? {} : { compatibilityDate }),
    ...(d1Databases === undefined ? {} : { d1Databases }),
    bindings: { MIGRATOR_SECRET: secret },
  };
  return { worker, secret };
}

/** Applies the migrations not yet applied, in file-name order, and says which it applied. */
export async function applyD1Migrations(miniflare: Miniflare, secret: string, sources: readonly D1MigrationSource[]): Promise<string[]> {
  const plan: MigrationPlan[] = [];
  for (const source of sources) {
    const table = source.table ?? DEFAULT_TABLE;
    const names = (await readdir(source.dir)).filter((name) => name.endsWith(".sql")).sort();
    const migrations = [];
    for (const name of names) {
      const sql = `${await readFile(join(source.dir, name), "utf8")}\nINSERT INTO ${table} (name) values ('${name}');\n`;
      migrations.push({ name, statements: unstable_splitSqlQuery(sql) });
    }
    plan.push({ binding: source.binding, table, migrations });
  }
  const response = await miniflare.dispatchFetch("http://migrator.invalid/", {
    method: "POST",
    headers: { "MF-Route-Override": MIGRATOR_WORKER, authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: JSON.stringify(plan),
  });
  const answer = (await response.json()) as { applied: string[]; newer?: string[]; error?: string };
  if (answer.newer !== undefined) throw new NewerDatabase(answer.newer);
  if (!response.ok) throw new Error(`D1 migrations failed after applying [${answer.applied.join(", ")}]: ${answer.error ?? response.status}`);
  return answer.applied;
}

/**
 * The database was migrated by a newer rbee than this checkout: its code would read tables it does
 * not know of (a key narrowed to some models would serve every model), so it is not started on it.
 */
export class NewerDatabase extends StartRefused {
  constructor(readonly migrations: readonly string[]) {
    super(
      "database_newer",
      `the queen's database was migrated by a newer rbee (${migrations.join(", ")}, which this checkout does not have). ` +
        "rbee does not downgrade a database: run the newer rbee on this state folder, or this one on another state folder (RBEE_STATE_DIR) or on a backup taken before the upgrade.",
    );
  }
}
