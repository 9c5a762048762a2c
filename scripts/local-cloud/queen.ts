// Runs the real queen Worker locally in workerd on Miniflare directly, from wrangler.toml (its
// bindings, Durable Objects with SQLite storage, D1, vars, compatibility date and flags, and
// static assets when it has an [assets] section), with D1 and Durable Object state under a folder
// of the caller's choosing. Used by `npm start`, the end-to-end tests and bench/.
//
// Not wrangler's `unstable_startWorker`: that puts wrangler's dev proxy (a second workerd) in
// front of the queen, which cost 2–4.5 ms a request and under load now and then never told the
// queen that a client hung up, so a cancelled generation ran to its end. Cloudflare has no such
// hop. Nor Miniflare's own entry Worker: the queen's port is a direct socket to the queen's
// Worker, whose entry module (queen-entry.ts) does the little of the entry's work the queen
// needs. wrangler still reads the config (unstable_getMiniflareWorkerOptions, as
// @cloudflare/vitest-pool-workers does); the D1 migrations are applied as wrangler would
// (queen-migrations.ts), and state lies where wrangler keeps it.
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { separateAssets } from "./queen-assets.js";
import { bundleQueen } from "./queen-bundle.js";
import { DAY_MS, startLocalCron } from "./queen-cron.js";
import { ASSETS_BINDING, queenEntrySource, writeQueenBatches } from "./queen-entry.js";
import { applyD1Migrations, type D1MigrationSource, migratorWorker } from "./queen-migrations.js";

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CONFIG_PATH = join(PROJECT_ROOT, "wrangler.toml");

/** Environment every wrangler invocation gets: no telemetry, no network look-ups. */
export const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } as const;
Object.assign(process.env, WRANGLER_ENV);

export interface LocalQueenOptions {
  /** Where local D1 and Durable Object state lives; kept across restarts. */
  persistDir: string;
  /** The bootstrap admin key (RBEE_ADMIN_KEY): both scopes, and it creates the other keys. */
  adminKey: string;
  /** 0 picks a free port. */
  port: number;
  heartbeatIntervalMs?: number;
  /** When the queen's daily run (its Cron Trigger: retention) first runs after it starts, ms; default a minute (queen-cron.ts). */
  dailyRunAfterMs?: number;
  /** More of the queen's vars (wrangler.toml [vars]), e.g. RATE_LIMIT_PER_KEY. */
  vars?: Record<string, string>;
  /** "log" passes the queen's own console.log lines (its request log) on, to `logLine`. Default "warn": warnings and errors only. */
  logLevel?: "warn" | "log";
  /** Takes each console.log line of the queen when `logLevel` is "log"; default this process's console.log. */
  logLine?: (line: string) => void;
}

export interface LocalQueen {
  /** Base URL, e.g. `http://127.0.0.1:7833`. */
  url: string;
  /** Writes the usage and metrics the queen still holds in its batches, then stops workerd; safe to call twice. */
  dispose(): Promise<void>;
}

export async function startLocalQueen(options: LocalQueenOptions): Promise<LocalQueen> {
  const wranglerConfig = unstable_readConfig({ config: CONFIG_PATH });
  const config = unstable_getMiniflareWorkerOptions(wranglerConfig);
  if (config.main === undefined) throw new Error(`${CONFIG_PATH} names no \`main\` module for the queen`);
  const { modulesRules: _rules, ...withAssets } = config.workerOptions;
  const assetsName = `${wranglerConfig.name}-assets`;
  const { queen: workerOptions, assets } = separateAssets(withAssets, assetsName);
  const migrator = migratorWorker(workerOptions.d1Databases, workerOptions.compatibilityDate);
  const bundle = await bundleQueen(config.main, queenEntrySource(config.main, assets?.paths), config.define);
  const miniflare = new Miniflare({
    // Miniflare's entry Worker, on a port of its own that only this process uses (the migrations).
    host: "127.0.0.1",
    port: 0,
    // Where `wrangler dev --persist-to <dir>` and `wrangler d1 … --local --persist-to <dir>` keep
    // state (wrangler's getDefaultPersistRoot): <dir>/v3/d1 and <dir>/v3/do/<name>-<class>.
    defaultPersistRoot: join(options.persistDir, "v3"),
    log: new Log(LogLevel.WARN),
    // As `wrangler dev` at log level warn: the queen's warnings and errors, not its per-request
    // lines; at "log" its console.log lines (the request log) too, to `logLine`.
    handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
      if (level === "warn" || level === "error") console.error(message);
      else if (level === "log" && options.logLevel === "log") (options.logLine ?? console.log)(message);
    },
    workers: [
      {
        ...workerOptions,
        // The Durable Objects' storage folders are named after the worker, as under `wrangler dev`.
        name: wranglerConfig.name,
        // The queen's port: straight to the queen's Worker, on loopback only.
        unsafeDirectSockets: [{ host: "127.0.0.1", port: options.port }],
        modules: [{ type: "ESModule", path: bundle.path, contents: bundle.contents }],
        ...(assets ? { serviceBindings: { ...workerOptions.serviceBindings, [ASSETS_BINDING]: assetsName } } : {}),
        bindings: {
          ...workerOptions.bindings,
          RBEE_ADMIN_KEY: options.adminKey,
          ...(options.heartbeatIntervalMs === undefined ? {} : { HEARTBEAT_INTERVAL_MS: String(options.heartbeatIntervalMs) }),
          ...options.vars,
        },
      },
      ...(assets ? [assets.worker] : []),
      migrator.worker,
    ],
  });
  let url: URL;
  try {
    await miniflare.ready;
    url = await miniflare.unsafeGetDirectURL(wranglerConfig.name);
    const sources: D1MigrationSource[] = wranglerConfig.d1_databases.map((database: { binding: string; migrations_dir?: string; migrations_table?: string }) => ({
      binding: database.binding,
      dir: resolve(PROJECT_ROOT, database.migrations_dir ?? "migrations"),
      ...(database.migrations_table === undefined ? {} : { table: database.migrations_table }),
    }));
    const applied = await applyD1Migrations(miniflare, migrator.secret, sources);
    // Said where someone reads the queen's lines: an upgrade's new tables, or a new database's.
    if (applied.length > 0 && options.logLine) options.logLine(`D1: applied migration${applied.length === 1 ? "" : "s"} ${applied.join(", ")}`);
  } catch (error) {
    await miniflare.dispose(); // a queen that failed to start or to migrate leaves no workerd behind
    throw error;
  }
  const cron = wranglerConfig.triggers.crons?.[0];
  const daily = cron === undefined ? undefined : startLocalCron(miniflare, wranglerConfig.name, cron, { firstAfterMs: options.dailyRunAfterMs ?? 60_000, everyMs: DAY_MS });
  let disposed = false;
  return {
    url: url.origin,
    async dispose() {
      if (disposed) return;
      disposed = true;
      daily?.stop();
      await writeQueenBatches(url.origin);
      await miniflare.dispose();
    },
  };
}

