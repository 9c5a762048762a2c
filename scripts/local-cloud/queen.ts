// Runs the real queen Worker locally in workerd (wrangler's unstable_startWorker), with D1 and
// Durable Object state under a folder of the caller's choosing. Used by `npm start` and the
// end-to-end tests.
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { unstable_startWorker } from "wrangler";

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

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
  /** More of the queen's vars (wrangler.toml [vars]), e.g. RATE_LIMIT_PER_KEY. */
  vars?: Record<string, string>;
  /** wrangler's log level; "log" passes the queen's own console.log lines (its request log) to this process's console. Default "warn". */
  logLevel?: "warn" | "log";
}

export interface LocalQueen {
  /** Base URL, e.g. `http://127.0.0.1:7833`. */
  url: string;
  dispose(): Promise<void>;
}

export async function startLocalQueen(options: LocalQueenOptions): Promise<LocalQueen> {
  await applyMigrations(options.persistDir);
  const worker = await unstable_startWorker({
    config: `${PROJECT_ROOT}wrangler.toml`,
    bindings: {
      RBEE_ADMIN_KEY: { type: "secret_text", value: options.adminKey },
      ...(options.heartbeatIntervalMs === undefined
        ? {}
        : { HEARTBEAT_INTERVAL_MS: { type: "plain_text", value: String(options.heartbeatIntervalMs) } }),
      ...Object.fromEntries(Object.entries(options.vars ?? {}).map(([name, value]) => [name, { type: "plain_text" as const, value }])),
    },
    dev: {
      server: { hostname: "127.0.0.1", port: options.port },
      inspector: false,
      persist: options.persistDir,
      watch: false,
      logLevel: options.logLevel ?? "warn",
    },
  });
  const url = await worker.url;
  let disposed = false;
  return {
    url: url.origin,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await worker.dispose();
    },
  };
}

/** Applies the committed D1 migrations to the local database (idempotent). */
async function applyMigrations(persistDir: string): Promise<void> {
  await execa("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], {
    cwd: PROJECT_ROOT,
    env: { ...WRANGLER_ENV, CI: "true" }, // CI=true: no interactive confirmation prompt
    stdin: "ignore",
  });
}
